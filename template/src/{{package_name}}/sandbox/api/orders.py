"""``/v1/orders``: orders and their items; status changes follow ``ORDER_TRANSITIONS`` and ``PAYMENT_TRANSITIONS``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..model import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    StoreData,
    fold,
    now_iso,
    parse_iso,
    refresh_customer,
    refresh_order,
)
from .bodies import Spec, read_body, validate
from .endpoint import Endpoints
from .http import (
    ApiError,
    Json,
    choice,
    choices,
    in_range,
    invalid,
    lookup,
    moment,
    paginate,
    path_id,
    searched,
    sort_rows,
)

ORDER_STATUSES = tuple(ORDER_TRANSITIONS)
PAYMENT_STATUSES = tuple(PAYMENT_TRANSITIONS)


def order_rows(request: Request, data: StoreData) -> list[Json]:
    statuses = choices(request, "status", ORDER_STATUSES)
    payment = choice(request, "payment_status", (*PAYMENT_STATUSES, "all"), "all")
    customer_id = request.query_params.get("customer_id") or None
    since, until = moment(request, "date_from"), moment(request, "date_to", end=True)
    address = {k: fold(request.query_params[k]) for k in ("city", "province", "country") if request.query_params.get(k)}
    country_code = request.query_params.get("country_code", "").upper() or None
    rows = [
        o
        for o in data.orders.values()
        if (statuses is None or o["status"] in statuses)
        and (payment == "all" or o["payment_status"] == payment)
        and (customer_id is None or o["customer_id"] == customer_id)
        and (since is None or parse_iso(o["created_at"]) >= since)
        and (until is None or parse_iso(o["created_at"]) <= until)
        and all(fold(o["shipping_address"].get(k) or "") == v for k, v in address.items())
        and (country_code is None or o["country_code"] == country_code)
    ]
    rows = searched(request, rows, ("order_number", "customer_name", "customer_email", "customer_phone"))
    rows = in_range(request, in_range(request, rows, "total"), "updated_at", dates=True)
    return sort_rows(request, rows, ("order_number", "total", "created_at", "updated_at", "customer_name"))


def order_routes(endpoint: Endpoints) -> list[Route]:
    async def list_orders(request: Request, data: StoreData) -> Json:
        return paginate(request, order_rows(request, data))

    async def count_orders(request: Request, data: StoreData) -> Json:
        return {"data": {"count": len(order_rows(request, data))}}

    async def get_order(request: Request, data: StoreData) -> Json:
        return {"data": lookup(data.orders, "Order", path_id(request))}

    async def get_order_items(request: Request, data: StoreData) -> Json:
        return {"data": lookup(data.orders, "Order", path_id(request))["items"]}

    async def update_order(request: Request, data: StoreData) -> Json:
        order = lookup(data.orders, "Order", path_id(request))
        schema = {
            "status": Spec("enum", nullable=False, choices=tuple(s for s in ORDER_STATUSES if s != "pending")),
            "payment_status": Spec("enum", nullable=False, choices=PAYMENT_STATUSES),
        }
        fields = validate(await read_body(request), schema)
        if not fields:
            raise invalid("status", "status or payment_status is required")
        errors = []
        for field, matrix in (("status", ORDER_TRANSITIONS), ("payment_status", PAYMENT_TRANSITIONS)):
            current, wanted = order[field], fields.get(field, order[field])
            if wanted != current and wanted not in matrix[current]:
                allowed = ", ".join(sorted(matrix[current])) or "none (final)"
                message = f"cannot change from {current} to {wanted}; allowed: {allowed}"
                errors.append({"field": field, "message": message})
        if errors:
            raise ApiError(422, "VALIDATION_ERROR", "Invalid request body", errors)
        changes = {k: v for k, v in fields.items() if order[k] != v}
        if changes:
            now = now_iso()
            order.update(changes, updated_at=now)
            if changes.get("status") == "completed":
                order["completed_at"] = now
            refresh_order(order)
            if order["customer_id"] in data.customers:
                refresh_customer(data, data.customers[order["customer_id"]])
        return {"data": order}

    return [
        Route("/v1/orders", endpoint("read:orders", list_orders, 200), methods=["GET"]),
        Route("/v1/orders/count", endpoint("read:orders", count_orders, 200), methods=["GET"]),
        Route("/v1/orders/{id}", endpoint("read:orders", get_order, 200), methods=["GET"]),
        Route("/v1/orders/{id}", endpoint("write:orders", update_order, 200), methods=["PATCH"]),
        Route("/v1/orders/{id}/items", endpoint("read:orders", get_order_items, 200), methods=["GET"]),
    ]
