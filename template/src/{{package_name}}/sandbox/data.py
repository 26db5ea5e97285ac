"""Demo data for the sandbox's REST API v1: two small, clearly different stores.

Everything is deterministic (fixed IDs, fixed timestamps, UUIDv5 variant IDs),
so tests can rely on it. ``demo_stores()`` returns fresh deep copies; the
object builders and ``refresh_*`` helpers are shared with ``api.py`` so that
created and updated objects have exactly the shape of the demo ones (the
fields of whatalo-api.md §7). Money is an integer amount, as in Whatalo's REST
examples (whether it is in major or minor units is not documented).
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CAFE_STORE_ID = "str_8k2m4n6p"
ANDES_STORE_ID = "str_3j5h7g9f"

# Order lifecycle (whatalo-api.md §8). Whatalo documents the diagram
# pending → confirmed → in_progress → completed, with ``returned`` branching off
# late and ``cancelled`` early, but not the exact matrix. This is the one the
# sandbox enforces: an order can be cancelled until it is completed, and
# returned once it is being fulfilled or completed. ``cancelled`` and
# ``returned`` are final. Setting the status an order already has is a no-op.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"completed", "returned", "cancelled"}),
    "completed": frozenset({"returned"}),
    "cancelled": frozenset(),
    "returned": frozenset(),
}
# Payment status changes (not documented either): a failed payment can be
# retried or reset, only a paid order can be refunded, and a refund is final.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "failed"}),
    "failed": frozenset({"pending", "paid"}),
    "paid": frozenset({"refunded"}),
    "refunded": frozenset(),
}

PRODUCT_FIELDS = (
    "id", "name", "slug", "description", "price", "compare_price", "main_image", "gallery", "is_active",
    "is_featured", "sku", "track_inventory", "stock_quantity", "low_stock_threshold", "continue_selling",
    "supplier_cost", "wholesale_price", "wholesale_min_quantity", "condition", "invoice_available",
    "fast_shipping", "warranty_months", "category_id", "is_purchasable", "has_discount", "discount_percentage",
    "variants", "created_at", "updated_at",
)  # fmt: skip
PRODUCT_DEFAULTS: dict[str, Any] = {
    "description": None, "compare_price": None, "main_image": None, "gallery": [], "is_active": True,
    "is_featured": False, "sku": None, "track_inventory": True, "stock_quantity": 0, "low_stock_threshold": 5,
    "continue_selling": False, "supplier_cost": None, "wholesale_price": None, "wholesale_min_quantity": None,
    "condition": "new", "invoice_available": False, "fast_shipping": False, "warranty_months": None,
    "category_id": None, "variants": [],
}  # fmt: skip
CUSTOMER_FIELDS = (
    "id", "name", "email", "phone", "notes", "has_email", "has_phone", "display_contact", "created_at",
    "updated_at", "orders_count", "total_spent", "last_order_at", "last_order_id",
)  # fmt: skip
ORDER_FIELDS = (
    "id", "order_number", "status", "payment_status", "payment_method", "shipping_method", "currency",
    "customer_id", "customer_name", "customer_phone", "customer_email", "subtotal", "discount_amount",
    "shipping_cost", "tax_amount", "total", "customer_notes", "internal_notes", "shipping_address", "country_code",
    "is_pending", "is_completed", "is_cancellable", "item_count", "is_fully_paid", "completed_at", "created_at",
    "updated_at", "items",
)  # fmt: skip
DISCOUNT_FIELDS = (
    "id", "code", "type", "value", "min_order_amount", "max_uses", "current_uses", "starts_at", "expires_at",
    "is_active", "applies_to_all", "applicable_product_ids", "applicable_category_ids", "is_expired", "is_usable",
    "has_usage_limit", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class StoreData:
    """One store's data, as the REST API sees it."""

    store: dict[str, Any]
    owner_sub: str
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    discounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    inventory_transactions: list[dict[str, Any]] = field(default_factory=list)


# -- identifiers and time -----------------------------------------------------

_id_rng = random.Random(20240601)
_used_ids: set[str] = set()


def new_id() -> str:
    """A fresh 12-digit public ID, never used before in this process (demo IDs included)."""
    while True:
        candidate = str(_id_rng.randint(10**11, 10**12 - 1))
        if candidate not in _used_ids:
            _used_ids.add(candidate)
            return candidate


def now_iso() -> str:
    """The current time as Whatalo writes it: ISO 8601, milliseconds, ``Z``."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """A timestamp or date (``2025-05-01``); naive values are UTC. Raises ValueError."""
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fold(text: str) -> str:
    """Lower case without accents, for search: ``Café`` matches ``cafe``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "item"


def unique_slug(text: str, taken: Iterable[str]) -> str:
    base, existing = slugify(text), set(taken)
    slug, n = base, 2
    while slug in existing:
        slug, n = f"{base}-{n}", n + 1
    return slug


def variant_id(product_id: str, variant_type: str, variant_value: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://sandbox.whatalo/{product_id}/{variant_type}/{variant_value}"))


def _item_id(order_id: str, index: int) -> str:
    digest = int(hashlib.sha256(f"{order_id}/{index}".encode()).hexdigest(), 16)
    return str(10**11 + digest % (9 * 10**11))


# -- object builders (shared with the API) -------------------------------------


def refresh_product(product: dict[str, Any]) -> dict[str, Any]:
    """Recompute a product's derived fields."""
    price, compare = product["price"], product["compare_price"]
    product["has_discount"] = compare is not None and compare > price
    percentage = (compare - price) * 100 / compare if product["has_discount"] else 0
    product["discount_percentage"] = math.floor(percentage + 0.5)  # rounded half up
    in_stock = not product["track_inventory"] or product["stock_quantity"] > 0 or product["continue_selling"]
    product["is_purchasable"] = bool(product["is_active"] and in_stock)
    return product


def make_product(
    product_id: str, fields: dict[str, Any], created_at: str, taken_slugs: Iterable[str] = ()
) -> dict[str, Any]:
    """A complete product object from the given fields and the defaults."""
    merged = {**copy.deepcopy(PRODUCT_DEFAULTS), **fields, "id": product_id}
    merged.setdefault("slug", unique_slug(merged["name"], taken_slugs))
    merged.setdefault("created_at", created_at)
    merged.setdefault("updated_at", merged["created_at"])
    product = {key: merged.get(key) for key in PRODUCT_FIELDS}
    return refresh_product(product)


def make_variant(product_id: str, variant_type: str, variant_value: str, **fields: Any) -> dict[str, Any]:
    """A product variant; its UUID is derived from the product and the type/value pair."""
    return {
        "id": fields.get("id") or variant_id(product_id, variant_type, variant_value),
        "variant_type": variant_type,
        "variant_value": variant_value,
        "sku": fields.get("sku"),
        "price": fields.get("price"),
        "stock_quantity": fields.get("stock_quantity", 0),
        "track_inventory": fields.get("track_inventory", True),
        "low_stock_threshold": fields.get("low_stock_threshold", 5),
        "continue_selling": fields.get("continue_selling", False),
    }


def make_category(category_id: str, name: str, slug: str, created_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": category_id,
        "name": name,
        "slug": slug,
        "description": fields.get("description"),
        "is_active": fields.get("is_active", True),
        "created_at": created_at,
        "updated_at": fields.get("updated_at", created_at),
    }


def refresh_customer(data: StoreData, customer: dict[str, Any]) -> dict[str, Any]:
    """Recompute contact flags and order statistics (cancelled and returned orders do not count as spent)."""
    customer["has_email"] = bool(customer["email"])
    customer["has_phone"] = bool(customer["phone"])
    customer["display_contact"] = customer["email"] or customer["phone"]
    orders = sorted(
        (o for o in data.orders.values() if o["customer_id"] == customer["id"]), key=lambda o: str(o["created_at"])
    )
    customer["orders_count"] = len(orders)
    customer["total_spent"] = sum(o["total"] for o in orders if o["status"] not in ("cancelled", "returned"))
    customer["last_order_at"] = orders[-1]["created_at"] if orders else None
    customer["last_order_id"] = orders[-1]["id"] if orders else None
    return customer


def make_customer(customer_id: str, fields: dict[str, Any], created_at: str) -> dict[str, Any]:
    merged = {"email": None, "phone": None, "notes": None, **fields, "id": customer_id}
    merged.setdefault("created_at", created_at)
    merged.setdefault("updated_at", merged["created_at"])
    return {key: merged.get(key) for key in CUSTOMER_FIELDS}


def refresh_order(order: dict[str, Any]) -> dict[str, Any]:
    """Recompute an order's totals and flags from its items and status."""
    for item in order["items"]:
        item["total_price"] = item["unit_price"] * item["quantity"]
    order["subtotal"] = sum(item["total_price"] for item in order["items"])
    order["total"] = order["subtotal"] - order["discount_amount"] + order["shipping_cost"] + order["tax_amount"]
    order["item_count"] = sum(item["quantity"] for item in order["items"])
    order["is_pending"] = order["status"] == "pending"
    order["is_completed"] = order["status"] == "completed"
    order["is_cancellable"] = "cancelled" in ORDER_TRANSITIONS.get(order["status"], frozenset())
    order["is_fully_paid"] = order["payment_status"] == "paid"
    return order


def refresh_discount(discount: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Recompute the time- and usage-dependent flags of a discount."""
    now = now or datetime.now(UTC)
    expires, starts = discount["expires_at"], discount["starts_at"]
    discount["is_expired"] = expires is not None and parse_iso(expires) <= now
    discount["has_usage_limit"] = discount["max_uses"] is not None
    started = starts is None or parse_iso(starts) <= now
    used_up = discount["max_uses"] is not None and discount["current_uses"] >= discount["max_uses"]
    discount["is_usable"] = bool(discount["is_active"] and started and not discount["is_expired"] and not used_up)
    return discount


def make_discount(discount_id: str, fields: dict[str, Any], created_at: str) -> dict[str, Any]:
    merged = {
        "min_order_amount": None, "max_uses": None, "current_uses": 0, "starts_at": None, "expires_at": None,
        "is_active": True, "applies_to_all": True, "applicable_product_ids": [], "applicable_category_ids": [],
        **fields, "id": discount_id,
    }  # fmt: skip
    merged.setdefault("created_at", created_at)
    merged.setdefault("updated_at", merged["created_at"])
    return refresh_discount({key: merged.get(key) for key in DISCOUNT_FIELDS})


def make_webhook(
    webhook_id: str, url: str, events: list[str], secret: str, created_at: str, **fields: Any
) -> dict[str, Any]:
    return {
        "id": webhook_id,
        "url": url,
        "events": list(events),
        "is_active": fields.get("is_active", True),
        "last_triggered_at": fields.get("last_triggered_at"),
        "failure_count": fields.get("failure_count", 0),
        "created_at": created_at,
        "updated_at": fields.get("updated_at", created_at),
        "secret": secret,  # internal; the API shows it only in the creation response
    }


def _demo_secret(webhook_id: str) -> str:
    return "whsec_" + hashlib.sha256(f"sandbox/{webhook_id}".encode()).hexdigest()[:32]


# -- the demo stores -----------------------------------------------------------

Variants = list[tuple[str, str, int]]  # (variant_type, variant_value, stock)
ItemSpec = tuple[str, str | None, int]  # (product_id, variant_value or None, quantity)


def _products(data: StoreData, created: list[str], rows: list[dict[str, Any]]) -> None:
    slug = data.store["slug"]
    for n, row in enumerate(rows):
        row = dict(row)
        variants: Variants = row.pop("variants", [])
        taken = [p["slug"] for p in data.products.values()]
        product = make_product(row.pop("id"), row, created[n % len(created)], taken)
        product["main_image"] = f"https://images.example.com/{slug}/{product['slug']}.jpg"
        if product["is_featured"]:
            product["gallery"] = [f"https://images.example.com/{slug}/{product['slug']}-{i}.jpg" for i in (2, 3)]
        for vtype, value, stock in variants:
            sku = f"{product['sku']}-{slugify(value).upper()}"
            product["variants"].append(make_variant(product["id"], vtype, value, stock_quantity=stock, sku=sku))
        data.products[product["id"]] = product


def _order(data: StoreData, row: dict[str, Any], address: dict[str, Any]) -> None:
    customer = data.customers[row["customer_id"]]
    items = []
    for index, (product_id, value, quantity) in enumerate(row.pop("items")):
        product = data.products[product_id]
        variant = next((v for v in product["variants"] if v["variant_value"] == value), None)
        items.append({
            "id": _item_id(row["id"], index),
            "product_id": product_id,
            "variant_id": variant["id"] if variant else None,
            "product_name": product["name"],
            "variant_name": f"{variant['variant_type']}: {variant['variant_value']}" if variant else None,
            "quantity": quantity,
            "unit_price": (variant and variant["price"]) or product["price"],
            "total_price": 0,
            "created_at": row["created_at"],
        })  # fmt: skip
    status = row["status"]
    order = {
        "discount_amount": 0, "tax_amount": 0, "customer_notes": None, "internal_notes": None,
        "payment_method": "cod", "completed_at": row["updated_at"] if status == "completed" else None,
        **row,
        "currency": data.store["currency"], "country_code": data.store["country_code"],
        "customer_name": customer["name"], "customer_phone": customer["phone"], "customer_email": customer["email"],
        "shipping_address": {"name": customer["name"], "phone": customer["phone"], "postal_code": None, "notes": None,
                             **address},
        "items": items,
    }  # fmt: skip
    order.setdefault("shipping_method", "Envío a domicilio")
    order.setdefault("shipping_cost", 0)
    data.orders[order["id"]] = refresh_order({key: order.get(key) for key in ORDER_FIELDS})


def _cafe() -> StoreData:
    fields: dict[str, Any]
    data = StoreData(
        owner_sub="usr_7f3a9b2c1d4e5f6a",
        store={
            "id": CAFE_STORE_ID, "name": "Café La Esquina", "slug": "cafe-la-esquina",
            "description": "Café dominicano de especialidad, tostado cada semana en la Zona Colonial.",
            "currency": "DOP", "country_code": "DO", "status": "active", "maintenance_mode": False,
            "store_title": "Café La Esquina | Café dominicano de especialidad", "custom_domain": None,
            "domain_verified": False, "is_active": True, "has_custom_domain": False,
            "storefront_url": "https://cafe-la-esquina.whatalo.com", "plan_name": "Despegue",
            "timezone": "America/Santo_Domingo", "created_at": "2023-03-14T13:05:22.418Z",
            "updated_at": "2025-04-02T16:40:11.090Z",
        },
    )  # fmt: skip
    cafe, drinks, gear = "475009690060", "693325057700", "957700650132"
    for cid, name, slug, created in [
        (cafe, "Café en grano y molido", "cafe-en-grano-y-molido", "2023-03-14T13:20:05.112Z"),
        (drinks, "Bebidas y dulces", "bebidas-y-dulces", "2023-03-14T13:21:47.530Z"),
        (gear, "Accesorios", "accesorios", "2023-04-02T10:02:13.004Z"),
    ]:
        data.categories[cid] = make_category(cid, name, slug, created)
    dates = ["2023-05-08T14:10:00.000Z", "2023-09-21T18:32:45.250Z", "2024-02-11T12:00:31.871Z"]
    _products(data, dates, [
        {"id": "205380810795", "name": "Café Santo Domingo Molido 1 lb", "price": 650, "category_id": cafe,
         "sku": "CSD-1LB", "stock_quantity": 120, "low_stock_threshold": 15, "is_featured": True,
         "description": "El clásico de la casa: tueste medio, notas de cacao y panela.",
         "variants": [("Molienda", "Fina", 40), ("Molienda", "Media", 50), ("Molienda", "Grano entero", 30)]},
        {"id": "400410117846", "name": "Café Orgánico de Jarabacoa 12 oz", "price": 890, "compare_price": 990,
         "category_id": cafe, "sku": "CJO-12OZ", "stock_quantity": 45, "supplier_cost": 520,
         "description": "Arábica orgánico de altura, cosechado a mano en Jarabacoa.",
         "variants": [("Tueste", "Medio", 25), ("Tueste", "Oscuro", 20)]},
        {"id": "643421581089", "name": "Cold Brew en botella 350 ml", "price": 275, "category_id": drinks,
         "sku": "CB-350", "stock_quantity": 4, "low_stock_threshold": 10, "fast_shipping": True,
         "description": "Infusión en frío de 18 horas, sin azúcar. Mantener refrigerado."},
        {"id": "204678650371", "name": "Taza de cerámica La Esquina", "price": 750, "category_id": gear,
         "sku": "TAZA-LE", "stock_quantity": 0, "description": "Taza de 12 oz hecha a mano en Higüey."},
        {"id": "308902542663", "name": "Prensa francesa 600 ml", "price": 1850, "compare_price": 2200,
         "category_id": gear, "sku": "PF-600", "stock_quantity": 18, "warranty_months": 6,
         "invoice_available": True, "description": "Vidrio borosilicato y filtro de acero inoxidable."},
        {"id": "970044521458", "name": "Chocolate de Baní para taza 250 g", "price": 380, "category_id": drinks,
         "sku": "CHOC-250", "stock_quantity": 35, "description": "Cacao dominicano con canela y clavo dulce."},
        {"id": "428884645551", "name": "Bizcocho dominicano (porción)", "price": 225, "category_id": drinks,
         "sku": "BIZ-POR", "stock_quantity": 12, "description": "Bizcocho de vainilla con suspiro, hecho cada mañana."},
        {"id": "249715982027", "name": "Filtros de papel #4 (100 u.)", "price": 320, "category_id": gear,
         "sku": "FILT-4", "stock_quantity": 60, "low_stock_threshold": 10},
        {"id": "184474343888", "name": "Café Navideño edición limitada", "price": 950, "category_id": cafe,
         "sku": "CNAV-24", "stock_quantity": 8, "is_active": False,
         "description": "Mezcla de temporada con especias. Vuelve en diciembre."},
        {"id": "560805363094", "name": "Molinillo manual de acero", "price": 2450, "category_id": gear,
         "sku": "MOL-ACERO", "stock_quantity": 7, "low_stock_threshold": 3, "supplier_cost": 1500,
         "wholesale_price": 2100, "wholesale_min_quantity": 6, "warranty_months": 12, "invoice_available": True},
        {"id": "442315301686", "name": "Tarjeta de regalo RD$1,000", "price": 1000, "sku": "GIFT-1000",
         "track_inventory": False, "description": "Válida por 12 meses en tienda y en línea."},
    ])  # fmt: skip
    for cid, created, fields in [
        ("282184450280", "2023-06-01T15:22:10.512Z", {"name": "María Fernanda Peña", "email": "maria.pena@gmail.com",
         "phone": "+18095551234", "notes": "Prefiere molienda fina. Entregar después de las 5 p. m."}),
        ("154335349840", "2023-08-19T20:03:44.007Z", {"name": "José Ramón Almonte", "email": "jralmonte@hotmail.com",
         "phone": "+18295557788"}),
        ("687037847892", "2024-01-09T11:47:31.930Z", {"name": "Ana Lucía Guzmán", "phone": "+18495553021"}),
        ("884036592425", "2024-07-23T09:15:02.641Z", {"name": "Pedro Antonio Reyes",
         "email": "pedro.reyes@outlook.com"}),
        ("534439589175", "2025-03-30T17:58:19.275Z", {"name": "Carmen Rosario Taveras",
         "email": "carmen.taveras@gmail.com", "phone": "+18095559080", "notes": "Cliente mayorista potencial."}),
    ]:  # fmt: skip
        data.customers[cid] = make_customer(cid, fields, created)
    capital = {
        "address": "Calle El Conde 254, Zona Colonial",
        "city": "Santo Domingo",
        "province": "Distrito Nacional",
        "country": "República Dominicana",
        "postal_code": "10210",
    }
    santiago = {"address": "Av. Juan Pablo Duarte 88, Los Jardines", "city": "Santiago de los Caballeros",
                "province": "Santiago", "country": "República Dominicana", "postal_code": "51000"}  # fmt: skip
    for row, address in [
        ({"id": "344711152332", "order_number": 1001, "status": "completed", "payment_status": "paid",
          "payment_method": "card", "customer_id": "282184450280", "discount_amount": 200, "shipping_cost": 150,
          "created_at": "2025-05-02T14:12:08.315Z", "updated_at": "2025-05-03T19:40:51.002Z",
          "items": [("205380810795", "Fina", 2), ("428884645551", None, 2)]}, capital),
        ({"id": "186947732475", "order_number": 1002, "status": "completed", "payment_status": "paid",
          "customer_id": "154335349840", "shipping_cost": 150, "created_at": "2025-05-10T16:45:27.880Z",
          "updated_at": "2025-05-11T13:02:09.447Z", "items": [("308902542663", None, 1), ("249715982027", None, 1)]},
         santiago),
        ({"id": "485238360207", "order_number": 1003, "status": "in_progress", "payment_status": "paid",
          "payment_method": "bank_transfer", "customer_id": "282184450280", "shipping_method": "Retiro en tienda",
          "created_at": "2025-05-18T12:30:55.104Z", "updated_at": "2025-05-18T15:02:40.731Z",
          "customer_notes": "Paso a buscarlo el sábado.",
          "items": [("400410117846", "Oscuro", 1), ("970044521458", None, 2)]}, capital),
        ({"id": "362293031823", "order_number": 1004, "status": "confirmed", "payment_status": "pending",
          "customer_id": "687037847892", "shipping_cost": 150, "created_at": "2025-05-20T09:05:13.662Z",
          "updated_at": "2025-05-20T10:11:48.219Z", "items": [("643421581089", None, 3)]}, capital),
        ({"id": "194650323160", "order_number": 1005, "status": "pending", "payment_status": "pending",
          "customer_id": "884036592425", "shipping_cost": 150, "created_at": "2025-05-21T21:48:36.090Z",
          "updated_at": "2025-05-21T21:48:36.090Z", "internal_notes": "Confirmar dirección por teléfono.",
          "items": [("205380810795", "Grano entero", 1), ("204678650371", None, 1), ("560805363094", None, 1)]},
         santiago),
        ({"id": "153243337236", "order_number": 1006, "status": "cancelled", "payment_status": "failed",
          "payment_method": "card", "customer_id": "154335349840", "shipping_cost": 150,
          "created_at": "2025-05-14T18:20:02.517Z", "updated_at": "2025-05-14T18:35:44.006Z",
          "internal_notes": "Tarjeta rechazada dos veces.", "items": [("970044521458", None, 1)]}, santiago),
    ]:  # fmt: skip
        _order(data, row, address)
    for did, created, fields in [
        ("174973831018", "2024-01-02T12:00:00.000Z", {"code": "BIENVENIDA10", "type": "percentage", "value": 10,
         "current_uses": 58, "starts_at": "2024-01-02T12:00:00.000Z"}),
        ("663147804432", "2025-01-05T14:30:12.208Z", {"code": "CAFE200", "type": "fixed_amount", "value": 200,
         "min_order_amount": 1500, "max_uses": 100, "current_uses": 37, "starts_at": "2025-01-06T04:00:00.000Z",
         "expires_at": "2030-12-31T23:59:59.000Z"}),
        ("741520749048", "2024-05-28T19:44:31.550Z", {"code": "VERANO2024", "type": "percentage", "value": 15,
         "max_uses": 200, "current_uses": 112, "starts_at": "2024-06-01T04:00:00.000Z",
         "expires_at": "2024-08-31T23:59:59.000Z"}),
    ]:  # fmt: skip
        data.discounts[did] = make_discount(did, fields, created)
    wid = "wh_202391881982"
    data.webhooks[wid] = make_webhook(
        wid,
        "https://hooks.cafelaesquina.do/whatalo/orders",
        ["order.created", "order.updated"],
        _demo_secret(wid),
        "2024-03-11T15:16:40.902Z",
        last_triggered_at="2025-05-21T21:48:37.311Z",
    )
    return data


def _andes() -> StoreData:
    fields: dict[str, Any]
    data = StoreData(
        owner_sub="usr_2b4d6f8h0j1k3m5n",
        store={
            "id": ANDES_STORE_ID, "name": "Andes Outdoor", "slug": "andes-outdoor",
            "description": "Equipo de montaña y camping para recorrer los páramos de Colombia.",
            "currency": "COP", "country_code": "CO", "status": "active", "maintenance_mode": False,
            "store_title": "Andes Outdoor — Equipo de montaña", "custom_domain": "tienda.andesoutdoor.co",
            "domain_verified": True, "is_active": True, "has_custom_domain": True,
            "storefront_url": "https://tienda.andesoutdoor.co", "plan_name": "Crecimiento",
            "timezone": "America/Bogota", "created_at": "2022-11-07T21:44:09.731Z",
            "updated_at": "2025-02-18T14:27:55.306Z",
        },
    )  # fmt: skip
    camping, apparel, footwear = "850829545519", "713169162910", "978663959323"
    for cid, name, slug, created in [
        (camping, "Camping", "camping", "2022-11-08T13:00:41.219Z"),
        (apparel, "Ropa técnica", "ropa-tecnica", "2022-11-08T13:02:17.845Z"),
        (footwear, "Calzado", "calzado", "2023-02-20T16:35:09.377Z"),
    ]:
        data.categories[cid] = make_category(cid, name, slug, created)
    dates = ["2022-12-01T15:00:00.000Z", "2023-06-14T20:11:37.402Z", "2024-08-29T13:48:05.996Z"]
    _products(data, dates, [
        {"id": "903419457547", "name": "Carpa Páramo 2 personas", "price": 689900, "category_id": camping,
         "sku": "AO-CARPA-P2", "stock_quantity": 14, "is_featured": True, "warranty_months": 12,
         "fast_shipping": True, "invoice_available": True,
         "description": "Doble pared, columna de agua de 3000 mm, 2,4 kg.",
         "variants": [("Color", "Verde oliva", 8), ("Color", "Naranja", 6)]},
        {"id": "729563178897", "name": "Saco de dormir Nevado -5 °C", "price": 429900, "compare_price": 499900,
         "category_id": camping, "sku": "AO-SACO-N5", "stock_quantity": 9, "invoice_available": True},
        {"id": "718744967223", "name": "Chaqueta impermeable Cocuy", "price": 359900, "category_id": apparel,
         "sku": "AO-CHQ-COC", "stock_quantity": 30, "is_featured": True, "warranty_months": 6,
         "description": "Membrana 20K/20K, costuras selladas, capucha ajustable.",
         "variants": [("Talla", "S", 8), ("Talla", "M", 12), ("Talla", "L", 10)]},
        {"id": "497083403312", "name": "Botas de montaña Chingaza", "price": 519900, "category_id": footwear,
         "sku": "AO-BOT-CHG", "stock_quantity": 0, "continue_selling": True,
         "description": "Cuero nobuk impermeable, suela Vibram. Disponible sobre pedido (15 días).",
         "variants": [("Talla", "39", 0), ("Talla", "41", 0), ("Talla", "43", 0)]},
        {"id": "561423994714", "name": "Medias de lana merino (par)", "price": 59900, "category_id": apparel,
         "sku": "AO-MED-MER", "stock_quantity": 80, "low_stock_threshold": 15, "wholesale_price": 49900,
         "wholesale_min_quantity": 10, "supplier_cost": 31000},
        {"id": "334107653877", "name": "Bastones de trekking (par)", "price": 189900, "category_id": camping,
         "sku": "AO-BAST", "stock_quantity": 25, "condition": "refurbished", "warranty_months": 3},
        {"id": "710085427120", "name": "Linterna frontal 300 lúmenes", "price": 99900, "category_id": camping,
         "sku": "AO-LINT-300", "stock_quantity": 40, "warranty_months": 6, "fast_shipping": True},
        {"id": "477420841671", "name": "Camiseta UV manga larga", "price": 119900, "category_id": apparel,
         "sku": "AO-CAM-UV", "stock_quantity": 20, "is_active": False,
         "variants": [("Color", "Azul", 10), ("Color", "Gris", 10)]},
        {"id": "742428765391", "name": "Sandalias de río Magdalena", "price": 149900, "category_id": footwear,
         "sku": "AO-SAND-MAG", "stock_quantity": 2, "low_stock_threshold": 5},
        {"id": "778860817844", "name": "Morral de ataque 30 L", "price": 279900, "compare_price": 319900,
         "category_id": camping, "sku": "AO-MOR-30", "stock_quantity": 12},
        {"id": "166247805478", "name": "Kit de primeros auxilios", "price": 89900, "sku": "AO-KIT-PA",
         "stock_quantity": 15, "description": "Botiquín compacto para travesías de varios días."},
    ])  # fmt: skip
    for cid, created, fields in [
        ("646345432543", "2023-01-15T22:08:51.604Z", {"name": "Santiago Restrepo Gómez",
         "email": "srestrepo@gmail.com", "phone": "+573104567890"}),
        ("212445363595", "2023-04-03T14:31:26.118Z", {"name": "Valentina Ospina Cárdenas",
         "email": "valeospina@outlook.com", "phone": "+573157894561", "notes": "Guía de montaña; pide factura."}),
        ("171571988762", "2024-02-27T19:54:40.071Z", {"name": "Andrés Felipe Rojas",
         "email": "andres.rojas@yahoo.com"}),
        ("715505242680", "2024-10-12T12:12:03.845Z", {"name": "Laura Camila Muñoz", "phone": "+573001234567"}),
        ("300980329511", "2025-04-22T23:40:58.362Z", {"name": "Juan David Castaño", "email": "jd.castano@gmail.com",
         "phone": "+573209876543"}),
    ]:  # fmt: skip
        data.customers[cid] = make_customer(cid, fields, created)
    bogota = {
        "address": "Carrera 7 # 72-41, Apto 502",
        "city": "Bogotá",
        "province": "Cundinamarca",
        "country": "Colombia",
        "postal_code": "110221",
    }
    medellin = {"address": "Calle 10 # 43E-25, El Poblado", "city": "Medellín", "province": "Antioquia",
                "country": "Colombia", "postal_code": "050021"}  # fmt: skip
    for row, address in [
        ({"id": "727571139008", "order_number": 2041, "status": "completed", "payment_status": "paid",
          "payment_method": "card", "customer_id": "646345432543", "created_at": "2025-04-26T15:03:19.220Z",
          "updated_at": "2025-04-30T17:25:44.913Z",
          "items": [("903419457547", "Verde oliva", 1), ("710085427120", None, 2)]}, bogota),
        ({"id": "612450360047", "order_number": 2042, "status": "returned", "payment_status": "refunded",
          "payment_method": "card", "customer_id": "212445363595", "shipping_cost": 15000,
          "created_at": "2025-05-03T13:40:07.551Z", "updated_at": "2025-05-12T10:18:30.064Z",
          "internal_notes": "Devuelta por talla; reembolso total.", "items": [("718744967223", "M", 1)]}, medellin),
        ({"id": "866540415529", "order_number": 2043, "status": "in_progress", "payment_status": "paid",
          "payment_method": "bank_transfer", "customer_id": "171571988762", "discount_amount": 91440,
          "created_at": "2025-05-15T20:27:45.375Z", "updated_at": "2025-05-16T14:00:12.648Z",
          "items": [("729563178897", None, 1), ("561423994714", None, 3)]}, bogota),
        ({"id": "592759215392", "order_number": 2044, "status": "confirmed", "payment_status": "paid",
          "payment_method": "card", "customer_id": "646345432543", "shipping_cost": 15000,
          "created_at": "2025-05-19T11:52:33.790Z", "updated_at": "2025-05-19T12:30:01.125Z",
          "items": [("778860817844", None, 1)]}, bogota),
        ({"id": "952240019582", "order_number": 2045, "status": "pending", "payment_status": "pending",
          "customer_id": "715505242680", "shipping_cost": 15000, "created_at": "2025-05-21T16:09:58.402Z",
          "updated_at": "2025-05-21T16:09:58.402Z", "customer_notes": "Llamar antes de entregar.",
          "items": [("742428765391", None, 1), ("561423994714", None, 1)]}, medellin),
        ({"id": "742644932277", "order_number": 2046, "status": "cancelled", "payment_status": "pending",
          "customer_id": "212445363595", "shipping_cost": 15000, "created_at": "2025-05-08T09:33:21.980Z",
          "updated_at": "2025-05-08T16:47:05.233Z", "customer_notes": "Me equivoqué de producto.",
          "items": [("334107653877", None, 1)]}, medellin),
    ]:  # fmt: skip
        _order(data, row, address)
    for did, created, fields in [
        ("561661581186", "2025-02-01T13:00:00.000Z", {"code": "AVENTURA15", "type": "percentage", "value": 15,
         "min_order_amount": 300000, "current_uses": 21, "starts_at": "2025-02-01T05:00:00.000Z",
         "expires_at": "2031-01-31T04:59:59.000Z"}),
        ("476914050303", "2024-09-09T16:22:48.117Z", {"code": "ENVIOGRATIS", "type": "fixed_amount", "value": 15000,
         "max_uses": 500, "current_uses": 143, "is_active": False, "starts_at": "2024-09-10T05:00:00.000Z"}),
        ("792448538713", "2024-11-20T21:05:37.609Z", {"code": "BLACKFRIDAY24", "type": "fixed_amount",
         "value": 50000, "min_order_amount": 250000, "max_uses": 300, "current_uses": 264,
         "starts_at": "2024-11-29T05:00:00.000Z", "expires_at": "2024-12-01T04:59:59.000Z"}),
    ]:  # fmt: skip
        data.discounts[did] = make_discount(did, fields, created)
    erp, crm = "wh_181519230264", "wh_168494888361"
    erp_events = ["order.created", "order.updated", "product.created", "product.updated", "product.deleted"]
    data.webhooks[erp] = make_webhook(
        erp, "https://erp.andesoutdoor.co/webhooks/whatalo", erp_events, _demo_secret(erp),
        "2023-07-04T18:10:26.440Z", last_triggered_at="2025-05-21T16:09:59.120Z",
    )  # fmt: skip
    data.webhooks[crm] = make_webhook(
        crm, "https://crm.andesoutdoor.co/hooks/customers", ["customer.created", "customer.updated"],
        _demo_secret(crm), "2024-05-16T13:57:02.781Z", is_active=False, failure_count=7,
        last_triggered_at="2025-01-09T08:14:51.502Z",
    )  # fmt: skip
    return data


def _build() -> dict[str, StoreData]:
    stores = {CAFE_STORE_ID: _cafe(), ANDES_STORE_ID: _andes()}
    for data in stores.values():
        for customer in data.customers.values():
            refresh_customer(data, customer)
        for kind in ("products", "categories", "customers", "orders", "discounts"):
            for object_id in getattr(data, kind):
                assert object_id not in _used_ids, f"duplicate demo id {object_id}"
                _used_ids.add(object_id)
        for order in data.orders.values():
            _used_ids.update(item["id"] for item in order["items"])
        _used_ids.update(w.removeprefix("wh_") for w in data.webhooks)
    return stores


_DEMO = _build()


def demo_stores() -> dict[str, StoreData]:
    """The two demo stores, as fresh deep copies (each sandbox state gets its own)."""
    return copy.deepcopy(_DEMO)
