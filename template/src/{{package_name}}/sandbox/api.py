"""The sandbox's REST API v1 (``api.whatalo.com``) over the demo stores' data.

Whatalo's envelopes, page-based pagination, error codes and rate-limit headers
(whatalo-api.md). Requests authenticate with ``Authorization: Bearer`` and a
token the sandbox issued for this API's audience; the data is always the
token's store (no path carries a store id). Order status changes follow
``ORDER_TRANSITIONS`` and ``PAYMENT_TRANSITIONS`` in ``data.py``. Test hook:
``state.api_faults`` (the next call answers that error instead).
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .data import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    StoreData,
    fold,
    iso,
    make_category,
    make_customer,
    make_discount,
    make_product,
    make_variant,
    make_webhook,
    new_id,
    now_iso,
    parse_iso,
    refresh_customer,
    refresh_discount,
    refresh_order,
    refresh_product,
    unique_slug,
)
from .state import SandboxState

Json = dict[str, Any]
Handler = Callable[[Request, StoreData], Awaitable[Json]]

RATE_LIMIT = 1000  # requests per minute and token, as for a live API key
ORDER_STATUSES = tuple(ORDER_TRANSITIONS)
PAYMENT_STATUSES = tuple(PAYMENT_TRANSITIONS)
WEBHOOK_EVENTS = frozenset({
    "order.created", "order.updated", "order.status_changed", "order.cancelled", "order.completed",
    "product.created", "product.updated", "product.deleted", "customer.created", "customer.updated",
    "checkout.completed", "checkout.abandoned",
})  # fmt: skip
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE = re.compile(r"^\S{1,64}$")


class ApiError(Exception):
    """An error answer in Whatalo's envelope."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}

    def response(self, headers: dict[str, str]) -> Response:
        error: Json = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return JSONResponse({"error": error}, status_code=self.status, headers={**headers, **self.headers})


def invalid(field: str, message: str, *, query: bool = False) -> ApiError:
    text = "Invalid query parameters" if query else "Invalid request body"
    return ApiError(422, "VALIDATION_ERROR", text, [{"field": field, "message": message}])


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{kind} {object_id} not found")


def lookup(objects: dict[str, Json], kind: str, object_id: str) -> Json:
    found = objects.get(object_id)
    if found is None:
        raise not_found(kind, object_id)
    return found


# -- query parameters ----------------------------------------------------------


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid(name, "must be an integer", query=True) from None
    if not low <= value <= high:
        bounds = f"between {low} and {high}" if high < 10**9 else f"at least {low}"
        raise invalid(name, f"must be {bounds}", query=True)
    return value


def paginate(request: Request, rows: list[Json]) -> Json:
    page = query_int(request, "page", 1, 1, 10**9)
    per_page = query_int(request, "per_page", 25, 1, 100)
    start = (page - 1) * per_page
    total_pages = math.ceil(len(rows) / per_page)
    pagination = {"page": page, "per_page": per_page, "total": len(rows), "total_pages": total_pages}
    return {"data": rows[start : start + per_page], "pagination": pagination}


def choice(request: Request, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    options = tuple(allowed)
    if raw not in options:
        raise invalid(name, f"must be one of: {', '.join(options)}", query=True)
    return raw


def choices(request: Request, name: str, allowed: Iterable[str]) -> set[str] | None:
    """A comma-separated list of allowed values."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    values, options = {v.strip() for v in raw.split(",") if v.strip()}, tuple(allowed)
    if not values <= set(options):
        raise invalid(name, f"values must be among: {', '.join(options)}", query=True)
    return values


def flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(name, "must be true or false", query=True)


def number(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise invalid(name, "must be a number", query=True)
    return value


def moment(request: Request, name: str, *, end: bool = False) -> datetime | None:
    """A date-time query value; with ``end``, a bare date means the end of that day."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = parse_iso(raw)
    except ValueError:
        raise invalid(name, "must be an ISO 8601 date or date-time", query=True) from None
    return value + timedelta(days=1, microseconds=-1) if end and len(raw.strip()) == 10 else value


def in_range(request: Request, rows: list[Json], field: str, *, dates: bool = False) -> list[Json]:
    """Apply ``field[gte]`` and ``field[lte]`` (rows without a value are left out when either is given)."""
    low: Any = moment(request, f"{field}[gte]") if dates else number(request, f"{field}[gte]")
    high: Any = moment(request, f"{field}[lte]", end=True) if dates else number(request, f"{field}[lte]")
    if low is None and high is None:
        return rows
    kept = []
    for row in rows:
        if row[field] is None:
            continue
        value = parse_iso(row[field]) if dates else row[field]
        if (low is None or value >= low) and (high is None or value <= high):
            kept.append(row)
    return kept


def searched(request: Request, rows: list[Json], fields: tuple[str, ...]) -> list[Json]:
    term = fold(request.query_params.get("search", "").strip())
    if not term:
        return rows
    return [r for r in rows if any(r.get(f) is not None and term in fold(str(r[f])) for f in fields)]


def sort_rows(request: Request, rows: list[Json], allowed: tuple[str, ...], default: str = "created_at") -> list[Json]:
    """Sort by ``sort`` and ``order`` (default ``created_at desc``); missing values go last."""
    field = choice(request, "sort", allowed, default) or default
    descending = choice(request, "order", ("asc", "desc"), "desc") == "desc"
    present = [r for r in rows if r.get(field) is not None]
    present.sort(key=lambda r: fold(r[field]) if isinstance(r[field], str) else r[field], reverse=descending)
    return present + [r for r in rows if r.get(field) is None]


# -- request bodies ------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a body field accepts."""

    kind: str  # name, text, slug, code, email, phone, https, time, enum, bool, int, money, strings, variants
    nullable: bool = True
    choices: tuple[str, ...] = ()
    minimum: int = 0


def problem(spec: Spec, value: Any) -> str | None:
    kind = spec.kind
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind in ("int", "money"):
        if isinstance(value, bool) or not isinstance(value, int if kind == "int" else (int, float)):
            return "must be an integer" if kind == "int" else "must be a number"
        return f"must be at least {spec.minimum}" if value < spec.minimum else None
    if kind == "strings":
        ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        return None if ok else "must be a list of non-empty strings"
    if kind == "variants":
        return variants_problem(value)
    if not isinstance(value, str):
        return "must be a string"
    checks: dict[str, tuple[bool, str]] = {
        "name": (bool(value.strip()) and len(value) <= 255, "must be a non-empty string of at most 255 characters"),
        "text": (len(value) <= 10000, "must be at most 10000 characters"),
        "slug": (bool(SLUG.match(value)), "must contain only lowercase letters, digits and hyphens"),
        "code": (bool(CODE.match(value)), "must be 1 to 64 characters without spaces"),
        "email": (bool(EMAIL.match(value.strip())), "must be a valid email address"),
        "phone": (bool(PHONE.match(value.strip())), "must be an E.164 phone number, e.g. +18095551234"),
        "https": (urlsplit(value).scheme == "https" and bool(urlsplit(value).hostname), "must be an https:// URL"),
        "time": (valid_time(value), "must be an ISO 8601 date-time"),
        "enum": (value in spec.choices, f"must be one of: {', '.join(spec.choices)}"),
    }
    ok, message = checks[kind]
    return None if ok else message


def valid_time(value: str) -> bool:
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


VARIANT_SCHEMA = {
    "sku": Spec("text"),
    "price": Spec("money"),
    "stock_quantity": Spec("int"),
    "track_inventory": Spec("bool"),
    "low_stock_threshold": Spec("int"),
    "continue_selling": Spec("bool"),
}


def variants_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list of variants"
    seen: set[tuple[str, str]] = set()
    for n, variant in enumerate(value):
        if not isinstance(variant, dict):
            return f"item {n} must be an object"
        for key in ("variant_type", "variant_value"):
            if problem(Spec("name"), variant.get(key)) is not None:
                return f"item {n}: {key} must be a non-empty string"
        pair = (variant["variant_type"].strip(), variant["variant_value"].strip())
        if pair in seen:
            return f"item {n} repeats {pair[0]}: {pair[1]}"
        seen.add(pair)
        for key, spec in VARIANT_SCHEMA.items():
            if variant.get(key) is not None and problem(spec, variant[key]) is not None:
                return f"item {n}: {key} {problem(spec, variant[key])}"
    return None


def validate(body: Json, schema: dict[str, Spec], required: tuple[str, ...] = ()) -> Json:
    """The known fields of ``body``, checked; 422 listing every bad field otherwise."""
    errors = [{"field": f, "message": "is required"} for f in required if body.get(f) is None]
    clean: Json = {}
    for name, spec in schema.items():
        if name not in body or (name in required and body[name] is None):
            continue
        value = body[name]
        message = ("must not be null" if not spec.nullable else None) if value is None else problem(spec, value)
        if message:
            errors.append({"field": name, "message": message})
        else:
            clean[name] = value.strip() if spec.kind in ("name", "email", "phone", "code") and value else value
    if errors:
        raise ApiError(422, "VALIDATION_ERROR", "Invalid request body", errors)
    return clean


def reject_nonfinite(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


async def read_body(request: Request) -> Json:
    raw = await request.body()
    try:
        body = json.loads(raw, parse_constant=reject_nonfinite) if raw.strip() else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        detail = [{"field": "body", "message": "must be a JSON object"}]
        raise ApiError(400, "VALIDATION_ERROR", "Invalid JSON body", detail)
    return body


# -- authentication and plumbing -----------------------------------------------


class RateLimiter:
    """Counts requests per key and minute, for the X-RateLimit-* headers and 429."""

    def __init__(self, limit: int = RATE_LIMIT) -> None:
        self.limit = limit
        self.windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> tuple[dict[str, str], int | None]:
        now = time.time()
        window = int(now // 60)
        if len(self.windows) > 10_000:
            self.windows = {k: v for k, v in self.windows.items() if v[0] == window}
        start, count = self.windows.get(key, (window, 0))
        count = count + 1 if start == window else 1
        self.windows[key] = (window, count)
        reset = (window + 1) * 60
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(reset),
        }
        return headers, (max(1, reset - int(now)) if count > self.limit else None)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authorize(state: SandboxState, token: str | None, scope: str) -> StoreData:
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if token is None:
        raise ApiError(401, "UNAUTHORIZED", "Missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    issued = state.active(token)
    if issued is None or issued.token_type != "access_token" or issued.store_id not in state.stores:
        raise ApiError(401, "UNAUTHORIZED", "The access token is invalid, expired or revoked", headers=challenge)
    if issued.aud != state.api_url:
        message = f"The access token was not issued for {state.api_url}"
        raise ApiError(401, "INVALID_AUDIENCE", message, headers=challenge)
    if scope not in issued.scopes:
        raise ApiError(
            403,
            "INSUFFICIENT_SCOPE",
            f"This request requires the {scope} scope",
            {"required_scope": scope},
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    return state.stores[issued.store_id]


def api_routes(state: SandboxState) -> list[Route]:
    """Every REST API v1 route of the sandbox, bound to ``state``."""
    limiter = RateLimiter()

    def prologue(request: Request) -> tuple[str | None, dict[str, str], int | None]:
        token = bearer_token(request)
        if token is not None:
            state.api_bearer_tokens.append(token)
            state.counters.api_calls += 1
        host = request.client.host if request.client else "unknown"
        headers, retry_after = limiter.hit(f"token:{token}" if token else f"ip:{host}")
        return token, headers, retry_after

    def endpoint(scope: str, handler: Handler, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            token, headers, retry_after = prologue(request)
            try:
                data = authorize(state, token, scope)
                if retry_after is not None:
                    message = f"Rate limit exceeded. Try again in {retry_after} seconds."
                    raise ApiError(429, "RATE_LIMITED", message, headers={"Retry-After": str(retry_after)})
                if state.api_faults:
                    fault = state.api_faults.pop(0)
                    extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                    if fault.status == 429:
                        extra["X-RateLimit-Remaining"] = "0"
                        extra["X-RateLimit-Reset"] = str(int(time.time()) + (fault.retry_after or 60))
                    raise ApiError(fault.status, fault.code, fault.message, headers=extra)
                payload = await handler(request, data)
            except ApiError as error:
                return error.response(headers)
            return JSONResponse(payload, status_code=status, headers=headers)

        return run

    routes = [
        Route("/v1/store", endpoint("read:store", get_store), methods=["GET"]),
        *product_routes(endpoint),
        *category_routes(endpoint),
        *inventory_routes(endpoint),
        *customer_routes(endpoint),
        *order_routes(endpoint),
        *discount_routes(endpoint),
        *webhook_routes(endpoint),
    ]

    async def fallback(request: Request) -> Response:
        _, headers, _ = prologue(request)
        allowed = sorted({m for r in routes if r.path_regex.match(request.url.path) for m in r.methods or ()})
        if allowed:
            error = ApiError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here", None, {})
            return error.response({**headers, "Allow": ", ".join(allowed)})
        return not_found("Route", f"{request.method} {request.url.path}").response(headers)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [*routes, Route("/v1/{path:path}", fallback, methods=methods)]


Endpoint = Callable[[str, Handler, int], Callable[[Request], Awaitable[Response]]]


def path_id(request: Request) -> str:
    return str(request.path_params["id"])


async def get_store(request: Request, data: StoreData) -> Json:
    return {"data": data.store}


def deleted() -> Json:
    return {"data": {"deleted": True}}


# -- products and inventory ----------------------------------------------------

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


def product_routes(endpoint: Endpoint) -> list[Route]:
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


def inventory_routes(endpoint: Endpoint) -> list[Route]:
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


# -- categories ----------------------------------------------------------------

CATEGORY_SCHEMA = {
    "name": Spec("name", nullable=False),
    "slug": Spec("slug"),
    "description": Spec("text"),
    "is_active": Spec("bool", nullable=False),
}


def category_routes(endpoint: Endpoint) -> list[Route]:
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


# -- customers -----------------------------------------------------------------

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


def customer_routes(endpoint: Endpoint) -> list[Route]:
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


# -- orders --------------------------------------------------------------------


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


def order_routes(endpoint: Endpoint) -> list[Route]:
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


# -- discounts -----------------------------------------------------------------

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


def discount_routes(endpoint: Endpoint) -> list[Route]:
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


# -- webhooks ------------------------------------------------------------------

WEBHOOK_SCHEMA = {"url": Spec("https", nullable=False), "events": Spec("strings", nullable=False),
                  "secret": Spec("name"), "is_active": Spec("bool", nullable=False)}  # fmt: skip


def public_webhook(webhook: Json) -> Json:
    return {k: v for k, v in webhook.items() if k != "secret"}


def webhook_fields(body: Json, creating: bool) -> Json:
    schema = WEBHOOK_SCHEMA if creating else {k: v for k, v in WEBHOOK_SCHEMA.items() if k != "secret"}
    fields = validate(body, schema, ("url", "events") if creating else ())
    if "events" in fields:
        unknown = sorted(set(fields["events"]) - WEBHOOK_EVENTS)
        if not fields["events"] or unknown:
            message = f"unknown events: {', '.join(unknown)}" if unknown else "must list at least one event"
            raise invalid("events", f"{message}; known: {', '.join(sorted(WEBHOOK_EVENTS))}")
        fields["events"] = list(dict.fromkeys(fields["events"]))
    return fields


def webhook_routes(endpoint: Endpoint) -> list[Route]:
    async def list_webhooks(request: Request, data: StoreData) -> Json:
        rows = sort_rows(request, list(data.webhooks.values()), ("created_at", "updated_at"))
        page = paginate(request, rows)
        page["data"] = [public_webhook(w) for w in page["data"]]
        return page

    async def create_webhook(request: Request, data: StoreData) -> Json:
        fields = webhook_fields(await read_body(request), creating=True)
        secret = fields.get("secret") or "whsec_" + secrets.token_hex(16)
        webhook_id = "wh_" + new_id()
        webhook = make_webhook(webhook_id, fields["url"], fields["events"], secret, now_iso(),
                               is_active=fields.get("is_active", True))  # fmt: skip
        data.webhooks[webhook_id] = webhook
        return {"data": dict(webhook)}  # the only answer that shows the secret

    async def update_webhook(request: Request, data: StoreData) -> Json:
        webhook = lookup(data.webhooks, "Webhook", path_id(request))
        webhook.update(webhook_fields(await read_body(request), creating=False), updated_at=now_iso())
        return {"data": public_webhook(webhook)}

    async def delete_webhook(request: Request, data: StoreData) -> Json:
        del data.webhooks[lookup(data.webhooks, "Webhook", path_id(request))["id"]]
        return deleted()

    return [
        Route("/v1/webhooks", endpoint("read:webhooks", list_webhooks, 200), methods=["GET"]),
        Route("/v1/webhooks", endpoint("write:webhooks", create_webhook, 201), methods=["POST"]),
        Route("/v1/webhooks/{id}", endpoint("write:webhooks", update_webhook, 200), methods=["PATCH"]),
        Route("/v1/webhooks/{id}", endpoint("write:webhooks", delete_webhook, 200), methods=["DELETE"]),
    ]
