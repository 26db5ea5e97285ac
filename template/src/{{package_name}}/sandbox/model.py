"""The data model of the sandbox's REST API v1: a store's objects and how they are built.

Objects are plain dicts with the fields of Whatalo's API reference
(https://developers.whatalo.com/docs/api/reference/v1/). The ``make_*`` builders
and ``refresh_*`` helpers serve both the demo stores (``demo.py``) and the API's
routes (``api/``), so created and updated objects have exactly the shape of the
demo ones. Money is an integer amount, as in Whatalo's REST examples (whether
it is in major or minor units is not documented).
"""

from __future__ import annotations

import copy
import math
import random
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Order lifecycle. Whatalo's orders guide
# (https://developers.whatalo.com/docs/api/managing-orders) draws the diagram
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


def reserve_ids(ids: Iterable[str]) -> None:
    """Make :func:`new_id` never hand out these IDs (the demo stores' fixed ones)."""
    _used_ids.update(ids)


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


# -- object builders (shared by the demo stores and the API) -------------------


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
