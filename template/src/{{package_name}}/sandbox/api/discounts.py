"""``/v1/discounts``: discount codes, and checking one against an order total."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.routing import Route

from ..model import StoreData, iso, make_discount, new_id, now_iso, parse_iso, refresh_discount
from .bodies import Spec, read_body, validate
from .endpoint import Endpoints
from .http import Json, choice, deleted, invalid, lookup, paginate, path_id, searched, sort_rows

DISCOUNT_SCHEMA = {
    "code": Spec("code", nullable=False), "type": Spec("enum", nullable=False, choices=("percentage", "fixed_amount")),
    "value": Spec("money", nullable=False), "min_order_amount": Spec("money"), "max_uses": Spec("int", minimum=1),
    "starts_at": Spec("time"), "expires_at": Spec("time"), "is_active": Spec("bool", nullable=False),
    "applies_to_all": Spec("bool", nullable=False), "applicable_product_ids": Spec("strings", nullable=False),
    "applicable_category_ids": Spec("strings", nullable=False),
}  # fmt: skip


def discount_fields(data: StoreData, body: Json, discount: Json | None) -> Json:
    fields = validate(body, DISCOUNT_SCHEMA, () if discount else ("code", "type", "value"))
    for key in ("starts_at", "expires_at"):
        if fields.get(key):
            fields[key] = iso(parse_iso(fields[key]))
    if "code" in fields:
        fields["code"] = fields["code"].upper()
        if any(d["code"] == fields["code"] for d in data.discounts.values() if d is not discount):
            raise invalid("code", f"a discount with code {fields['code']} already exists")
    merged = {**(discount or {}), **fields}
    if merged["value"] <= 0 or (merged["type"] == "percentage" and merged["value"] > 100):
        raise invalid("value", "must be greater than 0 (and at most 100 for a percentage)")
    starts, expires = merged.get("starts_at"), merged.get("expires_at")
    if starts and expires and parse_iso(expires) <= parse_iso(starts):
        raise invalid("expires_at", "must be after starts_at")
    return fields


def discount_amount(discount: Json, order_total: float) -> float:
    value: float = discount["value"]
    amount = min(order_total * value / 100 if discount["type"] == "percentage" else value, order_total)
    return math.floor(amount + 0.5) if isinstance(order_total, int) else round(amount, 2)


def validation_reason(discount: Json | None, order_total: float) -> str | None:
    if discount is None:
        return "Discount code not found"
    if not discount["is_active"]:
        return "Discount is not active"
    if discount["starts_at"] and parse_iso(discount["starts_at"]) > datetime.now(UTC):
        return "Discount has not started yet"
    if discount["is_expired"]:
        return "Discount has expired"
    if discount["max_uses"] is not None and discount["current_uses"] >= discount["max_uses"]:
        return "Discount usage limit reached"
    if discount["min_order_amount"] is not None and order_total < discount["min_order_amount"]:
        return "Minimum order amount not reached"
    return None


def discount_routes(endpoint: Endpoints) -> list[Route]:
    def fresh(data: StoreData) -> list[Json]:
        return [refresh_discount(d) for d in data.discounts.values()]

    async def list_discounts(request: Request, data: StoreData) -> Json:
        status = choice(request, "status", ("active", "inactive", "expired", "all"), "active")
        keep: dict[str | None, Callable[[Json], bool]] = {
            "active": lambda d: d["is_active"] and not d["is_expired"],
            "inactive": lambda d: not d["is_active"],
            "expired": lambda d: d["is_expired"],
            "all": lambda d: True,
        }
        rows = searched(request, [d for d in fresh(data) if keep[status](d)], ("code",))
        return paginate(request, sort_rows(request, rows, ("code", "value", "created_at", "updated_at", "expires_at")))

    async def get_discount(request: Request, data: StoreData) -> Json:
        return {"data": refresh_discount(lookup(data.discounts, "Discount", path_id(request)))}

    async def create_discount(request: Request, data: StoreData) -> Json:
        discount = make_discount(new_id(), discount_fields(data, await read_body(request), None), now_iso())
        data.discounts[discount["id"]] = discount
        return {"data": discount}

    async def update_discount(request: Request, data: StoreData) -> Json:
        discount = lookup(data.discounts, "Discount", path_id(request))
        discount.update(discount_fields(data, await read_body(request), discount), updated_at=now_iso())
        return {"data": refresh_discount(discount)}

    async def delete_discount(request: Request, data: StoreData) -> Json:
        del data.discounts[lookup(data.discounts, "Discount", path_id(request))["id"]]
        return deleted()

    async def validate_discount(request: Request, data: StoreData) -> Json:
        schema = {"code": Spec("name", nullable=False), "order_total": Spec("money", nullable=False)}
        fields = validate(await read_body(request), schema, ("code", "order_total"))
        code, total = fields["code"].upper(), fields["order_total"]
        discount = next((d for d in fresh(data) if d["code"] == code), None)
        reason = validation_reason(discount, total)
        amount = discount_amount(discount, total) if discount is not None and reason is None else 0
        return {"data": {"valid": reason is None, "discount_amount": amount, "reason": reason}}

    return [
        Route("/v1/discounts", endpoint("read:discounts", list_discounts, 200), methods=["GET"]),
        Route("/v1/discounts", endpoint("write:discounts", create_discount, 201), methods=["POST"]),
        Route("/v1/discounts/validate", endpoint("read:discounts", validate_discount, 200), methods=["POST"]),
        Route("/v1/discounts/{id}", endpoint("read:discounts", get_discount, 200), methods=["GET"]),
        Route("/v1/discounts/{id}", endpoint("write:discounts", update_discount, 200), methods=["PATCH"]),
        Route("/v1/discounts/{id}", endpoint("write:discounts", delete_discount, 200), methods=["DELETE"]),
    ]
