"""``/v1/categories``: categories; deleting one leaves its products uncategorized."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..model import StoreData, make_category, new_id, now_iso, unique_slug
from .bodies import Spec, read_body, validate
from .endpoint import Endpoints
from .http import Json, deleted, invalid, lookup, paginate, path_id, searched, sort_rows

CATEGORY_SCHEMA = {
    "name": Spec("name", nullable=False),
    "slug": Spec("slug"),
    "description": Spec("text"),
    "is_active": Spec("bool", nullable=False),
}


def category_routes(endpoint: Endpoints) -> list[Route]:
    def checked_slug(data: StoreData, fields: Json, category: Json | None) -> None:
        others = [c["slug"] for c in data.categories.values() if c is not category]
        if fields.get("slug") is None:
            fields.pop("slug", None)
        elif fields["slug"] in others:
            raise invalid("slug", "is already used by another category")
        if category is None:
            fields.setdefault("slug", unique_slug(fields["name"], others))

    async def list_categories(request: Request, data: StoreData) -> Json:
        rows = searched(request, list(data.categories.values()), ("name", "slug"))
        return paginate(request, sort_rows(request, rows, ("name", "created_at", "updated_at")))

    async def get_category(request: Request, data: StoreData) -> Json:
        return {"data": lookup(data.categories, "Category", path_id(request))}

    async def create_category(request: Request, data: StoreData) -> Json:
        fields = validate(await read_body(request), CATEGORY_SCHEMA, ("name",))
        checked_slug(data, fields, None)
        category = make_category(new_id(), fields.pop("name"), fields.pop("slug"), now_iso(), **fields)
        data.categories[category["id"]] = category
        return {"data": category}

    async def update_category(request: Request, data: StoreData) -> Json:
        category = lookup(data.categories, "Category", path_id(request))
        fields = validate(await read_body(request), CATEGORY_SCHEMA)
        checked_slug(data, fields, category)
        category.update(fields, updated_at=now_iso())
        return {"data": category}

    async def delete_category(request: Request, data: StoreData) -> Json:
        category_id, now = lookup(data.categories, "Category", path_id(request))["id"], now_iso()
        del data.categories[category_id]
        for product in data.products.values():
            if product["category_id"] == category_id:
                product.update(category_id=None, updated_at=now)
        for discount in data.discounts.values():
            discount["applicable_category_ids"] = [c for c in discount["applicable_category_ids"] if c != category_id]
        return deleted()

    return [
        Route("/v1/categories", endpoint("read:categories", list_categories, 200), methods=["GET"]),
        Route("/v1/categories", endpoint("write:categories", create_category, 201), methods=["POST"]),
        Route("/v1/categories/{id}", endpoint("read:categories", get_category, 200), methods=["GET"]),
        Route("/v1/categories/{id}", endpoint("write:categories", update_category, 200), methods=["PATCH"]),
        Route("/v1/categories/{id}", endpoint("write:categories", delete_category, 200), methods=["DELETE"]),
    ]
