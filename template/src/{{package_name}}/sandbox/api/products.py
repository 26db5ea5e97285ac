"""``/v1/products`` and ``/v1/inventory/products``: products, their variants and their stock."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..model import StoreData, make_product, make_variant, new_id, now_iso, refresh_product, unique_slug
from .bodies import VARIANT_SCHEMA, Spec, read_body, validate
from .endpoint import Endpoints
from .http import Json, choice, deleted, flag, in_range, invalid, lookup, paginate, path_id, searched, sort_rows

PRODUCT_SCHEMA: dict[str, Spec] = {
    "name": Spec("name", nullable=False), "slug": Spec("slug"), "description": Spec("text"),
    "price": Spec("money", nullable=False), "compare_price": Spec("money"), "main_image": Spec("text"),
    "gallery": Spec("strings", nullable=False), "is_active": Spec("bool", nullable=False),
    "is_featured": Spec("bool", nullable=False), "sku": Spec("text"), "track_inventory": Spec("bool", nullable=False),
    "stock_quantity": Spec("int", nullable=False), "low_stock_threshold": Spec("int", nullable=False),
    "continue_selling": Spec("bool", nullable=False), "supplier_cost": Spec("money"),
    "wholesale_price": Spec("money"), "wholesale_min_quantity": Spec("int", minimum=1),
    "condition": Spec("enum", nullable=False, choices=("new", "used", "refurbished")),
    "invoice_available": Spec("bool", nullable=False), "fast_shipping": Spec("bool", nullable=False),
    "warranty_months": Spec("int"), "category_id": Spec("text"), "variants": Spec("variants", nullable=False),
}  # fmt: skip


def product_fields(data: StoreData, body: Json, product: Json | None, product_id: str) -> Json:
    """Validated product fields, with slug, category and variants checked against the store."""
    fields = validate(body, PRODUCT_SCHEMA, () if product else ("name", "price"))
    others = [p["slug"] for p in data.products.values() if p is not product]
    if fields.get("slug") is None:
        fields.pop("slug", None)
        if product is None:
            fields["slug"] = unique_slug(fields["name"], others)
    elif fields["slug"] in others:
        raise invalid("slug", "is already used by another product")
    if fields.get("category_id") is not None and fields["category_id"] not in data.categories:
        raise invalid("category_id", f"Category {fields['category_id']} not found")
    if "variants" in fields:
        fields["variants"] = [
            make_variant(
                product_id,
                v["variant_type"].strip(),
                v["variant_value"].strip(),
                **{k: v[k] for k in VARIANT_SCHEMA if v.get(k) is not None},
            )
            for v in fields["variants"]
        ]
    return fields


def record_stock(data: StoreData, product: Json, new_quantity: int, reason: str, now: str) -> None:
    data.inventory_transactions.append({
        "id": new_id(), "product_id": product["id"], "variant_id": None,
        "quantity_change": new_quantity - product["stock_quantity"], "previous_quantity": product["stock_quantity"],
        "new_quantity": new_quantity, "reason": reason, "created_at": now,
    })  # fmt: skip
    product["stock_quantity"] = new_quantity


def product_rows(request: Request, data: StoreData) -> list[Json]:
    status = choice(request, "status", ("active", "inactive", "all"), "active")
    categories = {c.strip() for c in request.query_params.get("category_id", "").split(",") if c.strip()}
    featured = flag(request, "is_featured")
    stock = choice(request, "stock_status", ("in_stock", "low_stock", "out_of_stock"))
    rows = [
        p
        for p in data.products.values()
        if (status == "all" or p["is_active"] == (status == "active"))
        and (not categories or p["category_id"] in categories)
        and (featured is None or p["is_featured"] == featured)
        and (stock is None or stock_status(p) == stock)
    ]
    rows = in_range(request, searched(request, rows, ("name", "sku", "description")), "price")
    return sort_rows(request, rows, ("name", "price", "stock_quantity", "created_at", "updated_at"))


def stock_status(product: Json) -> str | None:
    """Stock level bucket; products that do not track inventory have none."""
    if not product["track_inventory"]:
        return None
    quantity = product["stock_quantity"]
    if quantity <= 0:
        return "out_of_stock"
    return "low_stock" if quantity <= product["low_stock_threshold"] else "in_stock"


def inventory_view(product: Json) -> Json:
    return {
        "product_id": product["id"], "sku": product["sku"], "stock_quantity": product["stock_quantity"],
        "track_inventory": product["track_inventory"], "low_stock_threshold": product["low_stock_threshold"],
        "continue_selling_when_out_of_stock": product["continue_selling"],
        "variants": [
            {"variant_id": v["id"], "variant_type": v["variant_type"], "variant_value": v["variant_value"],
             "sku": v["sku"], "stock_quantity": v["stock_quantity"], "track_inventory": v["track_inventory"],
             "low_stock_threshold": v["low_stock_threshold"],
             "continue_selling_when_out_of_stock": v["continue_selling"]}
            for v in product["variants"]
        ],
    }  # fmt: skip


def product_routes(endpoint: Endpoints) -> list[Route]:
    async def list_products(request: Request, data: StoreData) -> Json:
        return paginate(request, product_rows(request, data))

    async def count_products(request: Request, data: StoreData) -> Json:
        return {"data": {"count": len(product_rows(request, data))}}

    async def get_product(request: Request, data: StoreData) -> Json:
        return {"data": lookup(data.products, "Product", path_id(request))}

    async def create_product(request: Request, data: StoreData) -> Json:
        product_id = new_id()
        fields = product_fields(data, await read_body(request), None, product_id)
        product = make_product(product_id, fields, now_iso())
        data.products[product_id] = product
        return {"data": product}

    async def update_product(request: Request, data: StoreData) -> Json:
        product = lookup(data.products, "Product", path_id(request))
        fields, now = product_fields(data, await read_body(request), product, product["id"]), now_iso()
        stock = fields.pop("stock_quantity", product["stock_quantity"])
        if stock != product["stock_quantity"]:
            record_stock(data, product, stock, "Product updated", now)
        product.update(fields, updated_at=now)
        return {"data": refresh_product(product)}

    async def delete_product(request: Request, data: StoreData) -> Json:
        lookup(data.products, "Product", path_id(request))
        del data.products[path_id(request)]
        return deleted()

    return [
        Route("/v1/products", endpoint("read:products", list_products, 200), methods=["GET"]),
        Route("/v1/products", endpoint("write:products", create_product, 201), methods=["POST"]),
        Route("/v1/products/count", endpoint("read:products", count_products, 200), methods=["GET"]),
        Route("/v1/products/{id}", endpoint("read:products", get_product, 200), methods=["GET"]),
        Route("/v1/products/{id}", endpoint("write:products", update_product, 200), methods=["PATCH"]),
        Route("/v1/products/{id}", endpoint("write:products", delete_product, 200), methods=["DELETE"]),
    ]


def inventory_routes(endpoint: Endpoints) -> list[Route]:
    async def get_inventory(request: Request, data: StoreData) -> Json:
        return {"data": inventory_view(lookup(data.products, "Product", path_id(request)))}

    async def adjust_inventory(request: Request, data: StoreData) -> Json:
        product = lookup(data.products, "Product", path_id(request))
        schema = {"quantity": Spec("int", nullable=False, minimum=-(10**9)), "reason": Spec("name", nullable=False)}
        fields = validate(await read_body(request), schema, ("quantity", "reason"))
        if fields["quantity"] == 0:
            raise invalid("quantity", "must be a non-zero change in stock")
        new_quantity = product["stock_quantity"] + fields["quantity"]
        if new_quantity < 0:
            raise invalid("quantity", f"would make stock negative (current stock {product['stock_quantity']})")
        now = now_iso()
        record_stock(data, product, new_quantity, fields["reason"], now)
        product["updated_at"] = now
        refresh_product(product)
        return {"data": inventory_view(product)}

    return [
        Route("/v1/inventory/products/{id}", endpoint("read:inventory", get_inventory, 200), methods=["GET"]),
        Route("/v1/inventory/products/{id}", endpoint("write:inventory", adjust_inventory, 200), methods=["PATCH"]),
    ]
