"""The gate in front of ``/mcp``: Origin, bearer token, introspection, per-tool scopes, store context.

Every request to the MCP endpoint is authenticated (POST, GET and DELETE alike;
a session id is never a credential). A ``tools/call`` whose tool needs a scope
the token lacks is answered 403 ``insufficient_scope`` before the tool runs
(``policy.py`` decides which scopes; the gate only answers).

The gate answers in HTTP only (400, 401, 403, 405, 413, 503). Everything inside the MCP protocol
(results, tool errors, JSON-RPC errors) comes from the framework, shaped for the request's era.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import refusals, telemetry
from .authorization_server import AuthServerUnavailable
from .bearer import BearerError, Problem, bearer_token
from .calls import MalformedBody
from .eras import PROTOCOL_VERSION_HEADER, is_modern
from .introspection import InvalidToken
from .policy import ToolCallPolicy
from .principal import Principal, fingerprint, token_digest
from .store_context import StoreContext, use
from .token_exchange import Subject
from .urls import is_loopback_origin, origin
from .whatalo_api import WhataloAPI

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
QUIET_SECONDS = 10.0  # one log line per reason for a 503 in this time; the others are counted in it


class Sampled:
    """One log line per reason every ``interval`` seconds, with how many were left out since.

    A flood of random tokens, or Whatalo down under load, is a flood of 503s: it must not become a
    flood of log lines (``whatalo.auth.decisions`` counts every one of them).
    """

    def __init__(self, interval: float = QUIET_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last: dict[str, tuple[float, int]] = {}  # reason: (when logged, left out since)

    def take(self, reason: str) -> int | None:
        """``None``: leave this one out; else how many were left out before it."""
        now = self._clock()
        logged, left_out = self._last.get(reason, (None, 0))
        if logged is not None and now - logged < self.interval:
            self._last[reason] = (logged, left_out + 1)
            return None
        if logged is None and len(self._last) >= 1000:  # reasons are few; bounded all the same
            self._last.clear()
        self._last[reason] = (now, 0)
        return left_out


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal or raises ``InvalidToken`` / ``AuthServerUnavailable``.

    ``client`` is the address the request came from (after trusted proxies, see ``ratelimit``).
    """

    async def principal(self, token: str, digest: str | None = None, *, client: str | None = None) -> Principal: ...


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        api: WhataloAPI,
        policy: ToolCallPolicy,
        scopes_supported: list[str],
        metadata_url: str,
        resource_url: str,
        allowed_origins: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.api = api
        self.policy = policy
        self.scopes_supported = scopes_supported
        self.metadata_url = metadata_url
        self.allowed_origins = allowed_origins | {origin(resource_url)}
        self._unavailable_lines = Sampled()

    def origin_allowed(self, value: str) -> bool:
        return value in self.allowed_origins or is_loopback_origin(value)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            # CORS preflights never get here (the CORS middleware answers them); any other OPTIONS
            # is a method this endpoint does not serve, and needs no credentials to be told so.
            await refusals.method_not_allowed()(scope, receive, send)
            return
        sent_origin = version = None
        authorization: list[str] = []
        for name, value in scope["headers"]:  # one pass: this runs on every request
            if name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"origin" and sent_origin is None:
                sent_origin = value.decode("latin-1")
            elif name == PROTOCOL_VERSION_HEADER and version is None:
                version = value.decode("latin-1")
        if sent_origin is not None and not self.origin_allowed(sent_origin):
            await refusals.forbidden_origin()(scope, receive, send)
            return
        try:
            token = bearer_token(authorization)
        except BearerError as exc:
            await self._refuse_credentials(exc)(scope, receive, send)
            return
        digest = token_digest(token)
        try:
            peer = scope.get("client")  # uvicorn has applied X-Forwarded-For of a trusted proxy
            principal = await self.verifier.principal(token, digest, client=peer[0] if peer else None)
        except InvalidToken as exc:
            telemetry.decision("invalid_token")
            log.info("refused token %s: %s", fingerprint(digest), exc)
            await refusals.invalid_token(self.metadata_url, str(exc))(scope, receive, send)
            return
        except AuthServerUnavailable as exc:
            telemetry.decision("unavailable")
            left_out = self._unavailable_lines.take(str(exc))
            if left_out is not None:
                more = f" ({left_out} more since the last such line)" if left_out else ""
                client = peer[0] if peer else "-"
                log.warning("cannot decide on token %s from %s: %s%s", fingerprint(digest), client, exc, more)
            await refusals.unavailable(retry_after=exc.retry_after)(scope, receive, send)
            return
        if scope["method"] != "POST":
            # Stateless: no stream for a GET to listen to, no session for a DELETE to end, and no
            # other method: the same 405 whatever the framework.
            await refusals.method_not_allowed()(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await refusals.too_large()(scope, receive, send)
            return
        refusal = self._refuse_calls(body, principal, digest, modern=is_modern(version))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        telemetry.decision("allowed")
        receive = _replay(body, receive)
        context = StoreContext(Subject(principal, digest, token), self.api)
        with use(context):
            # The access log (uvicorn's is off: it would print query strings): who, for which store.
            method, path = scope["method"], scope["path"]
            log.info("%s %s allowed sub=%s client=%s", method, path, principal.sub, principal.client_id)
            await self.app(scope, receive, send)

    def _refuse_calls(self, body: bytes, principal: Principal, digest: str, *, modern: bool) -> Response | None:
        """The 403 for tool calls that need a scope the token lacks; 400 for a body no parser can read."""
        try:
            refusal = self.policy.refusal(body, principal.scopes, modern=modern)
        except MalformedBody as exc:
            return refusals.malformed_body(str(exc))
        if refusal is None:
            return None
        telemetry.decision("insufficient_scope")
        lacking = " ".join(sorted(refusal.missing))
        log.info("token %s of store %s lacks %s", fingerprint(digest), principal.store_id, lacking)
        return refusals.insufficient_scope(self.metadata_url, needed=refusal.needed, scopes=refusal.challenge)

    def _refuse_credentials(self, exc: BearerError) -> Response:
        if exc.problem is Problem.MISSING:
            telemetry.decision("unauthorized")
            return refusals.unauthorized(self.metadata_url, self.scopes_supported)
        if exc.problem is Problem.INVALID_REQUEST:
            telemetry.decision("invalid_request")
            return refusals.invalid_request(self.metadata_url, exc.description)
        telemetry.decision("invalid_token")
        return refusals.invalid_token(self.metadata_url, exc.description)


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
