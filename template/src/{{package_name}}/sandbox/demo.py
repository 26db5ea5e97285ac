"""The sandbox's two demo stores: small, clearly different, and the same on every run.

Everything is deterministic (fixed IDs, fixed timestamps, UUIDv5 variant IDs),
so tests can rely on it. ``demo_stores()`` returns fresh deep copies, built with
the data model's ``make_*`` builders (``model.py``), so the demo objects have
exactly the shape of those the API creates.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from .model import (
    ORDER_FIELDS,
    StoreData,
    make_category,
    make_customer,
    make_discount,
    make_product,
    make_variant,
    make_webhook,
    refresh_customer,
    refresh_order,
    reserve_ids,
    slugify,
)

CAFE_STORE_ID = "str_8k2m4n6p"
ANDES_STORE_ID = "str_3j5h7g9f"

Variants = list[tuple[str, str, int]]  # (variant_type, variant_value, stock)


def _item_id(order_id: str, index: int) -> str:
    digest = int(hashlib.sha256(f"{order_id}/{index}".encode()).hexdigest(), 16)
    return str(10**11 + digest % (9 * 10**11))


def _demo_secret(webhook_id: str) -> str:
    return "whsec_" + hashlib.sha256(f"sandbox/{webhook_id}".encode()).hexdigest()[:32]


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
    used: set[str] = set()
    for data in stores.values():
        for customer in data.customers.values():
            refresh_customer(data, customer)
        for kind in ("products", "categories", "customers", "orders", "discounts"):
            for object_id in getattr(data, kind):
                assert object_id not in used, f"duplicate demo id {object_id}"
                used.add(object_id)
        for order in data.orders.values():
            used.update(item["id"] for item in order["items"])
        used.update(w.removeprefix("wh_") for w in data.webhooks)
    reserve_ids(used)
    return stores


_DEMO = _build()


def demo_stores() -> dict[str, StoreData]:
    """The two demo stores, as fresh deep copies (each sandbox state gets its own)."""
    return copy.deepcopy(_DEMO)
