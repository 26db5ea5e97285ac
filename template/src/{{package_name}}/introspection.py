"""Validating a bearer token by RFC 7662 introspection at Whatalo, with a cache.

One POST per token (single flight), authenticated with the server's own client
credentials, no redirects followed, bounded in time and size. Only an HTTP 200
JSON object with a boolean ``active`` is an answer; anything else means the
authorization server cannot decide, which the caller turns into a 503.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
import httpx2 as httpx

from .cache import Cache, Overloaded, SingleFlight
from .discovery import AuthorizationServer, DiscoveryError
from .principal import Principal, fingerprint, token_digest
from .ratelimit import TokenBucket
from .settings import Settings

log = logging.getLogger(__name__)

CLOCK_LEEWAY = 30  # seconds of tolerated clock skew on exp and nbf
MAX_ANSWER_BYTES = 64 * 1024
ACCESS_TOKEN_TYPES = frozenset({"bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token"})


async def read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The body of a streamed ``response``, or None as soon as it passes ``limit`` bytes."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class InvalidToken(Exception):
    """The token must be refused with 401 ``invalid_token``. The message is safe to show."""


class AuthServerUnavailable(Exception):
    """No decision is possible now (answer 503). The message is safe to log."""


def client_auth(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form fields that authenticate this server at Whatalo (RFC 6749 §2.3.1)."""
    client_id = settings.whatalo_client_id
    secret = settings.whatalo_client_secret.get_secret_value()
    if settings.whatalo_client_auth_method == "client_secret_post":
        return {}, {"client_id": client_id, "client_secret": secret}
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}, {}


def same_resource(a: str, b: str) -> bool:
    """Equal resource identifiers (RFC 3986 §6.2.2-6.2.3), never a prefix match.

    Scheme and host compare case-insensitively, and an empty path is "/": URL libraries
    write ``https://host`` as ``https://host/`` (the TypeScript MCP SDK behind MCP
    Inspector and mcp-remote sends that as ``resource``). Any other trailing slash makes
    another resource.
    """
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme.lower(), pa.netloc.lower(), pa.path or "/", pa.query) == (
        pb.scheme.lower(),
        pb.netloc.lower(),
        pb.path or "/",
        pb.query,
    )


class Introspector:
    """Turns a bearer token into a :class:`Principal`, or refuses it."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        authorization_server: AuthorizationServer,
        cache: Cache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._http = http
        self._as = authorization_server
        self._cache = cache
        self._clock = clock
        self._flight = SingleFlight()
        rate = settings.introspection_rate_limit
        self._limiter = TokenBucket(rate=rate, burst=2 * rate)

    async def principal(self, token: str) -> Principal:
        digest = token_digest(token)
        key = "introspection:" + digest
        principal = await self._cached(key)
        if principal is not None:
            return principal
        try:
            return await self._flight.run(key, lambda: self._introspect_once(token, key))
        except Overloaded:
            raise AuthServerUnavailable("too many introspections in flight") from None

    async def _cached(self, key: str) -> Principal | None:
        """A cached principal still valid for this server (the cache may be shared with others)."""
        cached = await self._cache.get(key)
        if cached is None:
            return None
        principal = Principal.from_bytes(cached)
        if principal.exp <= self._clock() - CLOCK_LEEWAY:
            await self._cache.delete(key)
            return None
        if not any(same_resource(a, self._settings.mcp_resource_url) for a in principal.aud):
            return None
        return principal

    async def _introspect_once(self, token: str, key: str) -> Principal:
        """Introspect, unless another replica did while this one waited for the cache's hold."""
        if not self._limiter.acquire():  # a miss costs a call to Whatalo: bounded per second (F-18)
            raise AuthServerUnavailable("introspection rate limit reached (INTROSPECTION_RATE_LIMIT)")
        async with self._cache.exclusive(key, wait=self._settings.introspection_timeout + 1):
            principal = await self._cached(key)
            if principal is not None:
                return principal
            return await self._introspect(token, key)

    async def _introspect(self, token: str, key: str) -> Principal:
        try:
            metadata = await self._as.metadata()
        except DiscoveryError as exc:
            raise AuthServerUnavailable(str(exc)) from None
        headers, form = client_auth(self._settings)
        headers["Accept"] = "application/json"
        form.update(token=token, token_type_hint="access_token")
        try:
            with anyio.fail_after(self._settings.introspection_timeout):
                url = metadata.introspection_endpoint
                async with self._http.stream("POST", url, data=form, headers=headers) as response:
                    body = await read_at_most(response, MAX_ANSWER_BYTES)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise AuthServerUnavailable(f"introspection failed: {type(exc).__name__}") from None
        answer = self._answer(response, body)
        if answer.get("active") is not True:
            raise InvalidToken("the token is not active")
        principal = self._check(answer, key)
        ttl = min(float(self._settings.introspection_cache_ttl), principal.exp - self._clock())
        await self._cache.set(key, principal.to_bytes(), ttl)
        return principal

    def _answer(self, response: httpx.Response, body: bytes | None) -> dict[str, Any]:
        status = response.status_code
        if status in (400, 401, 403):
            log.error(
                "the authorization server refused this server's client credentials at introspection "
                "(HTTP %s): check WHATALO_CLIENT_ID, WHATALO_CLIENT_SECRET and WHATALO_CLIENT_AUTH_METHOD",
                status,
            )
            raise AuthServerUnavailable(f"introspection refused this server's credentials (HTTP {status})")
        if status != 200:
            raise AuthServerUnavailable(f"introspection answered HTTP {status}")
        if body is None:
            raise AuthServerUnavailable("introspection answer too large")
        if "json" not in response.headers.get("content-type", ""):
            raise AuthServerUnavailable("introspection answer is not JSON")
        try:
            answer = json.loads(body)
        except ValueError:
            raise AuthServerUnavailable("introspection answer is not valid JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            raise AuthServerUnavailable("introspection answer has no boolean 'active'")
        return answer

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
