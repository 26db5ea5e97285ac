"""Tokens for Whatalo's REST API, obtained by RFC 8693 token exchange and cached.

The inbound token is never sent to the API (no token passthrough): it is only the
``subject_token`` of an exchange, for ``resource = WHATALO_API_URL`` and the one scope a tool
needs. Exchanged tokens are cached per (inbound token digest, scope), encrypted where the cache is
shared, until shortly before they expire and never past the inbound token's own expiry; concurrent
requests for one share one exchange.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from . import telemetry
from .authorization_server import AuthorizationServer, AuthServerUnavailable, ExchangeRefused
from .cache import Cache, Overloaded, SingleFlight, compute_once
from .principal import Principal

EXPIRY_MARGIN = 30  # drop an exchanged token this many seconds before it expires
DEFAULT_LIFETIME = 300  # when the answer has no expires_in


@dataclass(frozen=True)
class Subject:
    """Whose token is exchanged: the verified principal, its digest (the cache key) and the token."""

    principal: Principal
    digest: str
    token: str = field(repr=False)


class ExchangeFailed(Exception):
    """No token for the API. ``code`` says whether it was refused or is not possible now; safe to show."""

    def __init__(self, message: str, *, status: int, code: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


REFUSED = "TOKEN_EXCHANGE_REFUSED"
UNAVAILABLE = "TOKEN_EXCHANGE_UNAVAILABLE"


class TokenExchange:
    def __init__(self, authorization_server: AuthorizationServer, cache: Cache, *, resource: str, wait: float) -> None:
        self._authorization_server = authorization_server
        self._cache = cache
        self._resource = resource
        self._wait = wait
        self._flight = SingleFlight()

    async def token(self, subject: Subject, scope: str, *, fresh: bool = False) -> str:
        """A token for the API with ``scope``; ``fresh`` skips (and drops) the cached one."""
        key = "exchange:" + hashlib.sha256(f"{subject.digest} {scope}".encode()).hexdigest()
        if fresh:
            await self._cache.delete(key)

        looked = fresh  # a fresh token is not looked up: no lookup to count

        async def look() -> str | None:
            nonlocal looked
            cached = None if fresh else await self._cache.get(key)
            if not looked:  # the first look is the call's cache lookup; a second one is inside the flight
                looked = True
                telemetry.cache_lookup("token_exchange", hit=cached is not None)
            return None if cached is None else cached.decode()

        try:
            return await compute_once(
                self._cache,
                self._flight,
                key,
                look=look,
                compute=lambda: self._exchange(subject, scope, key),
                wait=self._wait,
            )
        except Overloaded:
            message = "too many token exchanges in flight"
            raise ExchangeFailed(message, status=503, code=UNAVAILABLE, retry_after=5) from None

    async def _exchange(self, subject: Subject, scope: str, key: str) -> str:
        try:
            exchanged = await self._authorization_server.exchange(subject.token, resource=self._resource, scope=scope)
        except AuthServerUnavailable as exc:
            raise ExchangeFailed(
                "Whatalo's authorization server could not issue a token for the API; retry shortly",
                status=503,
                code=UNAVAILABLE,
                retry_after=exc.retry_after or 5,
            ) from None
        except ExchangeRefused as exc:
            raise ExchangeFailed(str(exc), status=exc.status, code=REFUSED) from None
        lifetime = DEFAULT_LIFETIME if exchanged.expires_in is None else exchanged.expires_in
        ttl = min(lifetime - EXPIRY_MARGIN, subject.principal.exp - time.time())
        await self._cache.set(key, exchanged.access_token.encode(), ttl)
        return exchanged.access_token
