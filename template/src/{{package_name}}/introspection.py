"""Validating a bearer token by RFC 7662 introspection at Whatalo, with a cache.

One introspection per token (single flight, and across replicas as far as the cache allows); the
answer's claims are checked here: active, for this server (audience), from this issuer, in time,
an access token, bound to one store. What the conversation with Whatalo can go wrong with is the
authorization server module's (``AuthServerUnavailable``, which the gate answers with 503).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .authorization_server import ACCESS_TOKEN_TYPE, AuthorizationServer, AuthServerUnavailable
from .cache import Cache, Overloaded, SingleFlight, compute_once
from .principal import Principal, fingerprint, token_digest
from .ratelimit import IntrospectionBudget, Refused
from .settings import Settings
from .urls import same_resource

log = logging.getLogger(__name__)

CLOCK_LEEWAY = 30  # seconds of tolerated clock skew on exp and nbf
ACCESS_TOKEN_TYPES = frozenset({"bearer", "access_token", ACCESS_TOKEN_TYPE})


class InvalidToken(Exception):
    """The token must be refused with 401 ``invalid_token``. The message is safe to show."""


class Introspector:
    """Turns a bearer token into a :class:`Principal`, or refuses it."""

    def __init__(
        self,
        settings: Settings,
        authorization_server: AuthorizationServer,
        cache: Cache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._authorization_server = authorization_server
        self._cache = cache
        self._clock = clock
        self._flight = SingleFlight()
        self._budget = IntrospectionBudget(settings.introspection_rate_limit, settings.client_rate_limit)
        # The cached bytes last decoded for each key, and what they decoded to: a warm request does
        # not decode or check the same bytes again. The cache stays the one source of lifetimes: an
        # entry here is used only while the cache still holds exactly these bytes.
        self._decoded: dict[str, tuple[bytes, Principal | None]] = {}
        self._decoded_limit = settings.introspection_cache_size

    async def principal(self, token: str, digest: str | None = None, *, client: str | None = None) -> Principal:
        """The principal of ``token`` (whose SHA-256 ``digest`` the caller may already have).

        ``client``: the address of the client that sent it, whose introspection budget a miss spends.
        """
        key = "introspection:" + (digest or token_digest(token))
        try:
            return await compute_once(
                self._cache,
                self._flight,
                key,
                look=lambda: self._cached(key),
                compute=lambda: self._introspect(token, key, client),
                wait=self._settings.introspection_timeout + 1,
            )
        except Overloaded:
            raise AuthServerUnavailable("too many introspections in flight") from None

    async def _cached(self, key: str) -> Principal | None:
        """A cached principal still valid for this server (the cache may be shared with others)."""
        cached = await self._cache.get(key)
        if cached is None:
            self._decoded.pop(key, None)
            return None
        known = self._decoded.get(key)
        if known is not None and known[0] == cached:
            principal = known[1]
        else:
            principal = self._decode(key, cached)
        if principal is None:
            return None
        if principal.exp <= self._clock() - CLOCK_LEEWAY:
            await self._cache.delete(key)
            self._decoded.pop(key, None)
            return None
        return principal

    def _decode(self, key: str, cached: bytes) -> Principal | None:
        """The cached principal, if it is for this server; remembered with the bytes it came from."""
        decoded = Principal.from_bytes(cached)
        ours = any(same_resource(a, self._settings.mcp_resource_url) for a in decoded.aud)
        principal = decoded if ours else None
        if key not in self._decoded and len(self._decoded) >= self._decoded_limit:
            del self._decoded[next(iter(self._decoded))]  # the oldest
        self._decoded[key] = (cached, principal)
        return principal

    async def _introspect(self, token: str, key: str, client: str | None) -> Principal:
        self._authorization_server.check_circuit()  # while Whatalo is failing, no budget is spent on it
        try:
            self._budget.spend(client)  # a miss costs a call to Whatalo: bounded per client and in all
        except Refused as exc:
            raise AuthServerUnavailable(str(exc), exc.retry_after) from None
        answer = await self._authorization_server.introspect(token)
        if answer.get("active") is not True:
            raise InvalidToken("the token is not active")
        principal = self._check(answer, key)
        ttl = min(float(self._settings.introspection_cache_ttl), principal.exp - self._clock())
        await self._cache.set(key, principal.to_bytes(), ttl)
        return principal

    def _check(self, answer: dict[str, Any], key: str) -> Principal:
        """An active answer still has to be for this server, this issuer, now, and one store."""
        now = self._clock()
        token_type = answer.get("token_type")
        if token_type is not None and str(token_type).lower() not in ACCESS_TOKEN_TYPES:
            raise InvalidToken("not an access token")
        if "iss" in answer and answer["iss"] != self._settings.whatalo_issuer:
            raise InvalidToken("the token was issued by another authorization server")
        exp = answer.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise InvalidToken("the token has no expiry")
        if exp <= now - CLOCK_LEEWAY:
            raise InvalidToken("the token has expired")
        nbf = answer.get("nbf")
        if isinstance(nbf, int | float) and not isinstance(nbf, bool) and nbf > now + CLOCK_LEEWAY:
            raise InvalidToken("the token is not valid yet")
        aud = answer.get("aud")
        if isinstance(aud, str):
            audiences: tuple[str, ...] = (aud,)
        else:
            audiences = tuple(a for a in aud if isinstance(a, str)) if isinstance(aud, list) else ()
        if not any(same_resource(a, self._settings.mcp_resource_url) for a in audiences):
            raise InvalidToken("the token was not issued for this server (audience)")
        store_id = answer.get("whatalo_store_id")
        if not isinstance(store_id, str) or not store_id:
            log.warning("active token %s has no whatalo_store_id; refused", fingerprint(key.rsplit(":", 1)[-1]))
            raise InvalidToken("the token is not bound to a store")
        scope = answer.get("scope", "")
        if not isinstance(scope, str):
            raise InvalidToken("the token's scope is malformed")
        sub, client_id = answer.get("sub", ""), answer.get("client_id", "")
        return Principal(
            store_id=store_id,
            sub=sub if isinstance(sub, str) else "",
            client_id=client_id if isinstance(client_id, str) else "",
            scopes=frozenset(scope.split()),
            aud=audiences,
            exp=float(exp),
        )
