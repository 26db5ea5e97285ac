"""The sandbox's authorization server: discovery, token, introspection and revocation.

Behaves like Whatalo's (``app.whatalo.com``, https://developers.whatalo.com/docs/api/oauth/):
RFC 8414 metadata; a token endpoint for the authorization code (single use, PKCE
S256, exact redirect URI), refresh tokens that rotate on every use (presenting a
rotated one revokes its whole family) and RFC 8693 token exchange (same user and
store, scope only ever narrowed); RFC 7662 introspection that requires client
authentication, with ``aud`` = the ``resource`` of the authorization; RFC 7009
revocation, always 200. Registration is in ``registration.py``, the consent page
in ``consent.py``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .consent import consent_routes
from .oauth import NO_STORE, OAuthError, authenticate, read_form
from .registration import registration_route
from .scopes import SCOPES
from .state import TOKEN_EXCHANGE, Client, Grant, SandboxState

log = logging.getLogger(__name__)

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.1


def metadata(state: SandboxState) -> dict[str, Any]:
    """Whatalo's discovery document, as its discovery guide shows it but without ``jwks_uri`` (tokens are opaque)."""
    issuer = state.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "registration_endpoint": f"{issuer}/oauth/register",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", TOKEN_EXCHANGE],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SCOPES),
        "subject_types_supported": ["public"],
        "resource_parameter_supported": True,
        "service_documentation": "https://developers.whatalo.com/docs/api/oauth/overview",
    }


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return secrets.compare_digest(digest, challenge)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError(400, "invalid_request", f"{name} is required")
    return value


def _allowed(client: Client, grant_type: str) -> None:
    if grant_type not in client.grant_types:
        raise OAuthError(401, "unauthorized_client", f"this client is not registered for the {grant_type} grant")


def _same_resource(form: dict[str, str], audience: str) -> None:
    resource = form.get("resource")
    if resource is not None and resource != audience:
        raise OAuthError(400, "invalid_target", "resource differs from the one the merchant authorized")


class TokenEndpoint:
    """``POST /oauth/token``: one method per grant."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.grants: dict[str, Callable[[Client, dict[str, str]], Awaitable[dict[str, Any]]]] = {
            "authorization_code": self.authorization_code,
            "refresh_token": self.refresh_token,
            TOKEN_EXCHANGE: self.token_exchange,
        }

    async def handle(self, request: Request) -> Response:
        try:
            form = await read_form(request)
            grant_type = _required(form, "grant_type")
            grant = self.grants.get(grant_type)
            if grant is None:
                raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
            client = authenticate(self.state, request, form)
            _allowed(client, grant_type)
            answer = await grant(client, form)
        except OAuthError as error:
            return error.response(request)
        if grant_type != TOKEN_EXCHANGE:  # the MCP server's exchanges are routine; sign-ins are news
            log.info("token: %s for client %s, scope %s", grant_type, client.client_id, answer["scope"])
        return JSONResponse(answer, headers=NO_STORE)

    async def authorization_code(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        code = self.state.codes.get(_required(form, "code"))
        redirect_uri, verifier = _required(form, "redirect_uri"), _required(form, "code_verifier")
        expired = OAuthError(400, "invalid_grant", "Authorization code has expired or was already used")
        if code is None or code.grant.client_id != client.client_id:
            raise expired
        if code.family is not None:  # a second use: revoke what the first one issued (RFC 6749 §4.1.2)
            self.state.revoke_family(code.family)
            raise expired
        if code.expires <= time.monotonic():
            raise expired
        if redirect_uri != code.redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri differs from the one sent to /oauth/authorize")
        if not VERIFIER.fullmatch(verifier):
            raise OAuthError(400, "invalid_request", "code_verifier must be 43 to 128 characters [A-Za-z0-9-._~]")
        if not pkce_matches(verifier, code.code_challenge):
            raise OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
        _same_resource(form, code.grant.audience)
        code.family = secrets.token_hex(8)
        return self.state.issue_tokens(code.grant, code.family, refresh="refresh_token" in client.grant_types)

    async def refresh_token(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        presented = _required(form, "refresh_token")
        refresh = self.state.live_refresh_token(presented)
        if refresh is None or refresh.grant.client_id != client.client_id:
            raise OAuthError(400, "invalid_grant", "refresh token is invalid, expired or revoked")
        if refresh.rotated:  # reuse of a rotated token: someone else has a copy, end the whole family
            self.state.revoke_family(refresh.family)
            raise OAuthError(400, "invalid_grant", "refresh token was already used; its token family is revoked")
        granted = refresh.grant
        requested = frozenset(form.get("scope", "").split()) or granted.scopes
        if not requested <= granted.scopes:
            extra = " ".join(sorted(requested - granted.scopes))
            raise OAuthError(400, "invalid_scope", f"the merchant did not grant {extra}")
        _same_resource(form, granted.audience)
        refresh.rotated = True
        narrowed = Grant(granted.client_id, granted.store_id, granted.sub, requested, granted.audience)
        return self.state.issue_tokens(narrowed, refresh.family, refresh=True, refresh_grant=granted)

    async def token_exchange(self, client: Client, form: dict[str, str]) -> dict[str, Any]:
        if not client.confidential:
            raise OAuthError(401, "unauthorized_client", "public clients cannot use token exchange")
        self.state.counters.exchanges += 1
        if form.get("subject_token_type") != ACCESS_TOKEN_TYPE:
            raise OAuthError(400, "invalid_request", f"subject_token_type must be {ACCESS_TOKEN_TYPE}")
        subject = self.state.active(form.get("subject_token", ""))
        if subject is None:
            raise OAuthError(400, "invalid_grant", "subject_token is not active")
        audience = form.get("resource") or form.get("audience")
        if audience != self.state.api_url:
            raise OAuthError(400, "invalid_target", "resource is not allowed")
        requested = frozenset(form.get("scope", "").split()) or subject.scopes
        if not requested <= subject.scopes:
            missing = " ".join(sorted(requested - subject.scopes))
            raise OAuthError(400, "invalid_scope", f"the subject token does not grant {missing}")
        issued, lifetime = self.state.exchange(subject, client.client_id, requested, audience)
        return {
            "access_token": issued,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": " ".join(sorted(requested)),
        }


def authserver_routes(state: SandboxState) -> list[Route]:
    async def discovery(request: Request) -> Response:
        return JSONResponse(metadata(state), headers={"Cache-Control": "public, max-age=3600"})

    async def introspect(request: Request) -> Response:
        state.counters.introspections += 1
        if state.introspection_delay:
            await asyncio.sleep(state.introspection_delay)
        if state.introspection_fault is not None:
            status, body, *headers = state.introspection_fault
            return Response(
                body, status_code=status, headers=headers[0] if headers else None, media_type="application/json"
            )
        try:
            form = await read_form(request)
            client = authenticate(state, request, form)
            if not client.confidential:
                raise OAuthError(401, "invalid_client", "Client authentication failed")
            token = _required(form, "token")
        except OAuthError as error:
            return error.response(request)
        return JSONResponse(state.introspect(token), headers=NO_STORE)

    async def revoke(request: Request) -> Response:
        try:
            form = await read_form(request)
            client = authenticate(state, request, form)
            token = _required(form, "token")
        except OAuthError as error:
            return error.response(request)
        # Always 200, known or not (RFC 7009 §2.2); a client only ever revokes its own tokens.
        if state.owner(token) == client.client_id:
            state.revoke(token)
        return Response(status_code=200, headers=NO_STORE)

    return [
        Route("/.well-known/oauth-authorization-server", discovery, methods=["GET"]),
        registration_route(state),
        *consent_routes(state),
        Route("/oauth/token", TokenEndpoint(state).handle, methods=["POST"]),
        Route("/oauth/introspect", introspect, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
    ]
