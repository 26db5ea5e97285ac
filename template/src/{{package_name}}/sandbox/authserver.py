"""The sandbox's authorization server: discovery, introspection and token exchange.

Behaves like Whatalo's (``app.whatalo.com``): RFC 8414 metadata, RFC 7662
introspection that requires client authentication, RFC 8693 token exchange
that keeps the user and store and only ever narrows the scope. Errors use
Whatalo's ``{"error", "error_description"}`` format.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .state import SandboxState

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SCOPES_SUPPORTED = [
    "read:store",
    "read:products",
    "write:products",
    "read:categories",
    "write:categories",
    "read:inventory",
    "write:inventory",
    "read:customers",
    "write:customers",
    "read:orders",
    "write:orders",
    "read:discounts",
    "write:discounts",
    "read:webhooks",
    "write:webhooks",
]


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def metadata(state: SandboxState) -> dict[str, Any]:
    issuer = state.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "response_types_supported": ["code"],
        "grant_types_supported": [TOKEN_EXCHANGE],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": SCOPES_SUPPORTED,
        "resource_parameter_supported": True,
        "service_documentation": "https://developers.whatalo.com/docs/api/oauth/overview",
    }


async def authenticated_client(state: SandboxState, request: Request, form: dict[str, str]) -> str | None:
    """The confidential client that made the request (Basic or body credentials, never both)."""
    header = request.headers.get("authorization", "")
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    if header.lower().startswith("basic "):
        if body_secret is not None:
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        client_id, secret = unquote(client_id), unquote(secret)
    elif body_id is not None and body_secret is not None:
        client_id, secret = body_id, body_secret
    else:
        return None
    return client_id if state.client_secret_ok(client_id, secret) else None


async def read_form(request: Request) -> dict[str, str] | None:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def authserver_routes(state: SandboxState) -> list[Route]:
    async def discovery(request: Request) -> Response:
        return JSONResponse(metadata(state), headers={"Cache-Control": "public, max-age=3600"})

    async def introspect(request: Request) -> Response:
        state.counters.introspections += 1
        if state.introspection_delay:
            await asyncio.sleep(state.introspection_delay)
        if state.introspection_fault is not None:
            status, body = state.introspection_fault
            return Response(body, status_code=status, media_type="application/json")
        form = await read_form(request)
        if form is None:
            return oauth_error(400, "invalid_request", "expected an application/x-www-form-urlencoded body")
        if await authenticated_client(state, request, form) is None:
            return oauth_error(401, "invalid_client", "Client authentication failed")
        token = form.get("token")
        if not token:
            return oauth_error(400, "invalid_request", "token is required")
        return JSONResponse(state.introspect(token), headers={"Cache-Control": "no-store"})

    async def token(request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return oauth_error(400, "invalid_request", "expected an application/x-www-form-urlencoded body")
        grant_type = form.get("grant_type")
        if grant_type != TOKEN_EXCHANGE:
            return oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported here")
        client_id = await authenticated_client(state, request, form)
        if client_id is None:
            return oauth_error(401, "invalid_client", "Client authentication failed")
        state.counters.exchanges += 1
        if form.get("subject_token_type") != ACCESS_TOKEN_TYPE:
            return oauth_error(400, "invalid_request", f"subject_token_type must be {ACCESS_TOKEN_TYPE}")
        subject = state.active(form.get("subject_token", ""))
        if subject is None:
            return oauth_error(400, "invalid_grant", "subject_token is not active")
        audience = form.get("resource") or form.get("audience")
        if audience != state.api_url:
            return oauth_error(400, "invalid_target", "resource is not allowed")
        requested = frozenset(form.get("scope", "").split()) or subject.scopes
        if not requested <= subject.scopes:
            missing = " ".join(sorted(requested - subject.scopes))
            return oauth_error(400, "invalid_scope", f"the subject token does not grant {missing}")
        issued, lifetime = state.exchange(subject, client_id, requested, audience)
        return JSONResponse(
            {
                "access_token": issued,
                "issued_token_type": ACCESS_TOKEN_TYPE,
                "token_type": "Bearer",
                "expires_in": lifetime,
                "scope": " ".join(sorted(requested)),
            },
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/.well-known/oauth-authorization-server", discovery, methods=["GET"]),
        Route("/oauth/introspect", introspect, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
    ]
