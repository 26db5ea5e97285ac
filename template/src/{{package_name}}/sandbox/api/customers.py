"""``/v1/customers``: customers, with their order statistics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..model import StoreData, make_customer, new_id, now_iso, refresh_customer
from .bodies import Spec, read_body, validate
from .endpoint import Endpoints
from .http import Json, flag, in_range, lookup, paginate, path_id, searched, sort_rows

CUSTOMER_SCHEMA = {"name": Spec("name", nullable=False), "email": Spec("email"), "phone": Spec("phone"),
                   "notes": Spec("text")}  # fmt: skip


def customer_rows(request: Request, data: StoreData) -> list[Json]:
    has_orders = flag(request, "has_orders")
    rows = [c for c in data.customers.values() if has_orders is None or (c["orders_count"] > 0) == has_orders]
    rows = searched(request, rows, ("name", "email", "phone"))
    rows = in_range(request, in_range(request, rows, "total_spent"), "orders_count")
    rows = in_range(request, rows, "last_order_at", dates=True)
    allowed = ("name", "created_at", "updated_at", "orders_count", "total_spent", "last_order_at")
    return sort_rows(request, rows, allowed)


def customer_routes(endpoint: Endpoints) -> list[Route]:
    async def list_customers(request: Request, data: StoreData) -> Json:
        return paginate(request, customer_rows(request, data))

    async def count_customers(request: Request, data: StoreData) -> Json:
        return {"data": {"count": len(customer_rows(request, data))}}

    async def get_customer(request: Request, data: StoreData) -> Json:
        return {"data": lookup(data.customers, "Customer", path_id(request))}

    async def create_customer(request: Request, data: StoreData) -> Json:
        fields = validate(await read_body(request), CUSTOMER_SCHEMA, ("name",))
        customer = refresh_customer(data, make_customer(new_id(), fields, now_iso()))
        data.customers[customer["id"]] = customer
        return {"data": customer}

    async def update_customer(request: Request, data: StoreData) -> Json:
        customer = lookup(data.customers, "Customer", path_id(request))
        customer.update(validate(await read_body(request), CUSTOMER_SCHEMA), updated_at=now_iso())
        return {"data": refresh_customer(data, customer)}

    return [
        Route("/v1/customers", endpoint("read:customers", list_customers, 200), methods=["GET"]),
        Route("/v1/customers", endpoint("write:customers", create_customer, 201), methods=["POST"]),
        Route("/v1/customers/count", endpoint("read:customers", count_customers, 200), methods=["GET"]),
        Route("/v1/customers/{id}", endpoint("read:customers", get_customer, 200), methods=["GET"]),
        Route("/v1/customers/{id}", endpoint("write:customers", update_customer, 200), methods=["PATCH"]),
    ]
