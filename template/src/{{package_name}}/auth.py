"""The gate in front of ``/mcp``: bearer token, introspection, per-tool scopes, store context.

Every request to the MCP endpoint is authenticated (POST, GET and DELETE alike;
a session id is never a credential). A ``tools/call`` whose tool needs a scope
the token lacks is answered 403 ``insufficient_scope`` before the tool runs.

The gate answers in HTTP only (400, 401, 403, 405, 413, 503). Everything inside the MCP protocol
(results, tool errors, JSON-RPC errors) comes from the framework, shaped for the request's era.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import challenges, policy
from .bearer import BearerError, Problem, bearer_token
from .calls import MalformedBody, tool_names
from .eras import PROTOCOL_VERSION_HEADER, is_modern
from .introspection import AuthServerUnavailable, InvalidToken
from .principal import Principal, fingerprint, token_digest
from .settings import is_loopback
from .store_context import StoreContext, bind
from .whatalo_api import WhataloAPI

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal or raises ``InvalidToken`` / ``AuthServerUnavailable``."""

    async def principal(self, token: str) -> Principal: ...


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        api: WhataloAPI,
        tool_scopes: Mapping[str, frozenset[str]],
        scopes_supported: list[str],
        metadata_url: str,
        resource_url: str,
        allowed_origins: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.api = api
        self.tool_scopes = tool_scopes
        self.scopes_supported = scopes_supported
        self.metadata_url = metadata_url
        parts = urlsplit(resource_url)
        self.allowed_origins = allowed_origins | {f"{parts.scheme}://{parts.netloc}"}

    def origin_allowed(self, origin: str) -> bool:
        return origin in self.allowed_origins or is_loopback(urlsplit(origin).hostname)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        origin = next((v.decode("latin-1") for k, v in headers if k == b"origin"), None)
        if origin is not None and not self.origin_allowed(origin):
            await challenges.forbidden_origin()(scope, receive, send)
            return
        authorization = [v.decode("latin-1") for k, v in headers if k == b"authorization"]
        try:
            token = bearer_token(authorization)
        except BearerError as exc:
            await self._refuse_credentials(exc)(scope, receive, send)
            return
        digest = token_digest(token)
        try:
            principal = await self.verifier.principal(token)
        except InvalidToken as exc:
            log.info("refused token %s: %s", fingerprint(digest), exc)
            await challenges.invalid_token(self.metadata_url, str(exc))(scope, receive, send)
            return
        except AuthServerUnavailable as exc:
            log.warning("cannot decide on token %s: %s", fingerprint(digest), exc)
            await challenges.unavailable()(scope, receive, send)
            return
        if scope["method"] == "POST":
            body = await _read_body(receive)
            refusal: Response | None
            if body is None:
                refusal = challenges.too_large()
            else:
                version = next((v.decode("latin-1") for k, v in headers if k == PROTOCOL_VERSION_HEADER), None)
                refusal = self._refuse_calls(body, principal, digest, modern=is_modern(version))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            assert body is not None
            receive = _replay(body, receive)
        elif scope["method"] == "GET":
            # Stateless: there is no stream for a GET to listen to; say so rather than hold it open.
            await challenges.no_stream()(scope, receive, send)
            return
        context = StoreContext(principal=principal, digest=digest, token=token, api=self.api)
        with bind(context):
            # The access log (uvicorn's is off: it would print query strings): who, for which store.
            method, path = scope["method"], scope["path"]
            log.info("%s %s allowed sub=%s client=%s", method, path, principal.sub, principal.client_id)
            await self.app(scope, receive, send)

    def _refuse_calls(self, body: bytes, principal: Principal, digest: str, *, modern: bool) -> Response | None:
        """The 403 for tool calls that need a scope the token lacks; 400 for a body no parser can read."""
        try:
            names = tool_names(body)
        except MalformedBody as exc:
            return challenges.malformed_body(str(exc))
        needed = frozenset().union(*(self.tool_scopes.get(name, frozenset()) for name in names))
        missing = policy.missing(principal.scopes, needed)
        if not missing:
            return None
        log.info("token %s of store %s lacks %s", fingerprint(digest), principal.store_id, " ".join(sorted(missing)))
        scopes = policy.challenge_scopes(principal.scopes, needed, modern=modern)
        return challenges.insufficient_scope(self.metadata_url, needed=needed, scopes=scopes)

    def _refuse_credentials(self, exc: BearerError) -> Any:
        if exc.problem is Problem.MISSING:
            return challenges.unauthorized(self.metadata_url, self.scopes_supported)
        if exc.problem is Problem.INVALID_REQUEST:
            return challenges.invalid_request(self.metadata_url, exc.description)
        return challenges.invalid_token(self.metadata_url, exc.description)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body over, then waits for the real disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
