"""Every route of the sandbox's REST API v1, and what answers a path or method it does not have."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..state import SandboxState
from .categories import category_routes
from .customers import customer_routes
from .discounts import discount_routes
from .endpoint import Endpoints
from .http import ApiError, not_found
from .orders import order_routes
from .products import inventory_routes, product_routes
from .store import store_routes
from .webhooks import webhook_routes


def api_routes(state: SandboxState) -> list[Route]:
    """Every REST API v1 route of the sandbox, bound to ``state``."""
    endpoint = Endpoints(state)
    routes = [
        *store_routes(endpoint),
        *product_routes(endpoint),
        *category_routes(endpoint),
        *inventory_routes(endpoint),
        *customer_routes(endpoint),
        *order_routes(endpoint),
        *discount_routes(endpoint),
        *webhook_routes(endpoint),
    ]

    async def fallback(request: Request) -> Response:
        _, headers, _ = endpoint.prologue(request)
        allowed = sorted({m for r in routes if r.path_regex.match(request.url.path) for m in r.methods or ()})
        if allowed:
            error = ApiError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here", None, {})
            return error.response({**headers, "Allow": ", ".join(allowed)})
        return not_found("Route", f"{request.method} {request.url.path}").response(headers)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [*routes, Route("/v1/{path:path}", fallback, methods=methods)]
