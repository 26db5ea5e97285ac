"""Dynamic Client Registration (RFC 7591) as Whatalo does it: ``POST /oauth/register``.

JSON in, ``201`` with the client's credentials out; no management endpoint
(RFC 7592). Redirect URIs must be https, or http on localhost. Ten registrations
per IP address and hour, then ``429 rate_limit_exceeded`` with ``Retry-After``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .oauth import NO_STORE, OAuthError, url_problem
from .scopes import SCOPES
from .state import TOKEN_EXCHANGE, Client, SandboxState

log = logging.getLogger(__name__)

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", TOKEN_EXCHANGE)
URL_FIELDS = ("client_uri", "logo_uri", "policy_uri", "tos_uri")
TEXT_FIELDS = ("software_id", "software_version")


def _strings(body: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = body.get(name, default)
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise OAuthError(400, "invalid_request", f"{name} must be an array of strings")
    return value


def client_from(body: dict[str, Any]) -> Client:
    """The client ``body`` describes, or the first thing wrong with it."""
    name = body.get("client_name")
    if not isinstance(name, str) or not name.strip():
        raise OAuthError(400, "invalid_request", "client_name is required")
    if not body.get("redirect_uris"):
        raise OAuthError(400, "invalid_request", "redirect_uris is required")
    redirect_uris = _strings(body, "redirect_uris", [])
    for uri in redirect_uris:
        problem = url_problem(uri)
        if problem:
            raise OAuthError(400, "invalid_redirect_uri", f"redirect_uris: {problem}")
    grant_types = _strings(body, "grant_types", ["authorization_code"])
    unknown = sorted(set(grant_types) - set(GRANT_TYPES))
    if unknown:
        raise OAuthError(400, "invalid_request", f"grant_types: unsupported {', '.join(unknown)}")
    if _strings(body, "response_types", ["code"]) != ["code"]:
        raise OAuthError(400, "invalid_request", 'response_types must be ["code"]')
    method = body.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise OAuthError(400, "invalid_request", f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}")
    if method == "none" and TOKEN_EXCHANGE in grant_types:
        raise OAuthError(400, "invalid_request", "public clients (none) cannot use token exchange")
    scope = body.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            raise OAuthError(400, "invalid_request", "scope must be a space-separated string")
        unknown = sorted(set(scope.split()) - set(SCOPES))
        if unknown:
            raise OAuthError(400, "invalid_request", f"scope: unknown scope {' '.join(unknown)}")
    for field_name in URL_FIELDS:
        if field_name in body and (not isinstance(body[field_name], str) or url_problem(body[field_name])):
            raise OAuthError(400, "invalid_request", f"{field_name} must be an https URL")
    for field_name in TEXT_FIELDS:
        if field_name in body and not isinstance(body[field_name], str):
            raise OAuthError(400, "invalid_request", f"{field_name} must be a string")

    client_id = secrets.token_hex(12)
    secret = None if method == "none" else secrets.token_urlsafe(24)
    answer: dict[str, Any] = {"client_id": client_id}
    if secret is not None:
        answer["client_secret"] = secret
    answer |= {
        "client_name": name,
        "redirect_uris": redirect_uris,
        "grant_types": grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
    }
    if scope is not None:
        answer["scope"] = " ".join(scope.split())
    answer |= {key: body[key] for key in (*URL_FIELDS, *TEXT_FIELDS) if key in body}
    answer |= {"client_id_issued_at": int(time.time()), "client_secret_expires_at": 0}
    return Client(
        client_id,
        secret,
        name.strip(),
        redirect_uris=redirect_uris,
        grant_types=grant_types,
        scopes=frozenset(scope.split()) if scope is not None else None,
        metadata=answer,
    )


def registration_route(state: SandboxState) -> Route:
    async def register(request: Request) -> Response:
        try:
            address = request.client.host if request.client else "unknown"
            wait = state.registration_allowed(address)
            if wait is not None:
                log.warning(
                    "registration limit reached for %s (%d per hour, as at Whatalo; every local client shares "
                    "127.0.0.1): restart the sandbox, or start it with --registrations-per-hour N",
                    address,
                    state.registrations_per_hour,
                )
                raise OAuthError(
                    429,
                    "rate_limit_exceeded",
                    f"Registration limit of {state.registrations_per_hour} requests per hour exceeded",
                    retry_after=wait,
                )
            if not request.headers.get("content-type", "").startswith("application/json"):
                raise OAuthError(400, "invalid_request", "expected an application/json body")
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise OAuthError(400, "invalid_request", "the body is not valid JSON") from None
            if not isinstance(body, dict):
                raise OAuthError(400, "invalid_request", "the body must be a JSON object")
            client = state.register(client_from(body))
        except OAuthError as error:
            return error.response(request)
        log.info("registered client %s (%r), redirect URIs %s", client.client_id, client.name, client.redirect_uris)
        return JSONResponse(client.metadata, status_code=201, headers=NO_STORE)

    return Route("/oauth/register", register, methods=["POST"])
