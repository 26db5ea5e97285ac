"""Calls to Whatalo's REST API v1, each with a token obtained by RFC 8693 token exchange.

The inbound token is never sent to the API (no token passthrough): it is only
the ``subject_token`` of an exchange at Whatalo's token endpoint, authenticated
with this server's own credentials, for ``resource = WHATALO_API_URL`` and the
one scope the tool needs. Exchanged tokens are cached per (inbound token
digest, scope) until shortly before they expire. A 401 from the API causes one
fresh exchange and one retry.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import httpx2 as httpx

from .cache import Cache, Overloaded, SingleFlight
from .discovery import AuthorizationServer, DiscoveryError
from .introspection import client_auth
from .settings import Settings

if TYPE_CHECKING:
    from .store_context import StoreContext

log = logging.getLogger(__name__)

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
EXPIRY_MARGIN = 30  # drop an exchanged token this many seconds before it expires
DEFAULT_EXCHANGED_LIFETIME = 300
API_TIMEOUT = 15.0


class WhataloAPIError(Exception):
    """A failed call, as an MCP tool error: Whatalo's code and message, and when to retry."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        details: Any = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.details = details
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"Whatalo API error {self.code} (HTTP {self.status}): {self.message}"
        if isinstance(self.details, list):
            fields = [f"{d.get('field')}: {d.get('message')}" for d in self.details if isinstance(d, dict)]
            if fields:
                text += " [" + "; ".join(fields) + "]"
        if self.retry_after is not None:
            text += f" Retry after {self.retry_after} seconds."
        return text


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after")
    if value and value.strip().isdigit():
        return int(value)
    reset = response.headers.get("x-ratelimit-reset")
    if response.status_code == 429 and reset and reset.strip().isdigit():
        return max(0, int(reset) - int(time.time()))
    return None


def _api_error(response: httpx.Response) -> WhataloAPIError:
    code, message, details = f"HTTP_{response.status_code}", response.reason_phrase or "request failed", None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        details = error.get("details")
    return WhataloAPIError(response.status_code, code, message, retry_after=_retry_after(response), details=details)


class WhataloAPI:
    """The process-wide REST client: one connection pool, exchanged tokens in the cache."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        authorization_server: AuthorizationServer,
        cache: Cache,
    ) -> None:
        self._settings = settings
        self._http = http
        self._as = authorization_server
        self._cache = cache
        self._flight = SingleFlight()
        self.base_url = settings.whatalo_api_url

    async def request(
        self,
        context: StoreContext,
        method: str,
        path: str,
        *,
        scope: str,
        params: Mapping[str, str | int | float] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = await self._send(context, method, path, scope, params, json, fresh=False)
        if response.status_code == 401:
            log.info("Whatalo API refused an exchanged token; exchanging again once")
            response = await self._send(context, method, path, scope, params, json, fresh=True)
        if response.status_code >= 400:
            raise _api_error(response)
        try:
            payload = response.json()
        except ValueError:
            raise WhataloAPIError(502, "BAD_RESPONSE", "Whatalo's API answered something that is not JSON") from None
        if not isinstance(payload, dict):
            raise WhataloAPIError(502, "BAD_RESPONSE", "Whatalo's API answered something that is not a JSON object")
        return payload

    async def _send(
        self,
        context: StoreContext,
        method: str,
        path: str,
        scope: str,
        params: Mapping[str, str | int | float] | None,
        json: Mapping[str, Any] | None,
        *,
        fresh: bool,
    ) -> httpx.Response:
        token = await self.exchanged_token(context, scope, fresh=fresh)
        try:
            with anyio.fail_after(API_TIMEOUT):
                return await self._http.request(
                    method,
                    self.base_url + path,
                    params=dict(params) if params else None,
                    json=dict(json) if json is not None else None,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=API_TIMEOUT,
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            reason = type(exc).__name__
            if method == "GET" or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):  # nothing was applied
                message = f"Whatalo's API could not be reached ({reason})"
                raise WhataloAPIError(503, "UPSTREAM_UNAVAILABLE", message, retry_after=5) from None
            # A write that timed out may have been applied: say so rather than invite a blind retry.
            message = (
                f"Whatalo's API did not confirm the change ({reason}); it may or may not have been applied: "
                "read the resource again before retrying"
            )
            raise WhataloAPIError(504, "UPSTREAM_UNCONFIRMED", message) from None

    async def exchanged_token(self, context: StoreContext, scope: str, *, fresh: bool = False) -> str:
        """A token for the REST API with ``scope``, for the same user and store as the inbound one."""
        key = "exchange:" + hashlib.sha256(f"{context.digest} {scope}".encode()).hexdigest()
        if fresh:
            await self._cache.delete(key)
        else:
            cached = await self._cache.get(key)
            if cached is not None:
                return cached.decode()
        try:
            return await self._flight.run(key, lambda: self._exchange_once(context, scope, key, fresh))
        except Overloaded:
            raise WhataloAPIError(
                503, "TOKEN_EXCHANGE_UNAVAILABLE", "too many token exchanges in flight", retry_after=5
            ) from None

    async def _exchange_once(self, context: StoreContext, scope: str, key: str, fresh: bool) -> str:
        """Exchange, unless another replica did while this one waited for the cache's hold."""
        async with self._cache.exclusive(key, wait=self._settings.introspection_timeout + 1):
            cached = None if fresh else await self._cache.get(key)
            if cached is not None:
                return cached.decode()
            return await self._exchange(context, scope, key)

    async def _exchange(self, context: StoreContext, scope: str, key: str) -> str:
        try:
            metadata = await self._as.metadata()
        except DiscoveryError:
            raise self._exchange_unavailable() from None
        headers, form = client_auth(self._settings)
        headers["Accept"] = "application/json"
        form.update(
            grant_type=TOKEN_EXCHANGE,
            subject_token=context.token,
            subject_token_type=ACCESS_TOKEN_TYPE,
            resource=self.base_url,
            scope=scope,
        )
        try:
            with anyio.fail_after(self._settings.introspection_timeout):
                response = await self._http.post(metadata.token_endpoint, data=form, headers=headers)
        except (httpx.HTTPError, TimeoutError):
            raise self._exchange_unavailable() from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200 or not isinstance(payload, dict):
            if response.status_code >= 500 or response.status_code == 429 or not isinstance(payload, dict):
                raise self._exchange_unavailable(_retry_after(response))
            error = str(payload.get("error", "invalid_request"))
            description = str(payload.get("error_description", ""))[:200]
            if error == "invalid_client":
                log.error("Whatalo refused this server's client credentials at token exchange")
            raise WhataloAPIError(
                response.status_code, "TOKEN_EXCHANGE_REFUSED", f"{error}: {description}".rstrip(": ")
            )
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise self._exchange_unavailable()
        expires_in = payload.get("expires_in", DEFAULT_EXCHANGED_LIFETIME)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else DEFAULT_EXCHANGED_LIFETIME
        # Never kept past the inbound token's own expiry, nor closer than the margin to its own.
        ttl = min(lifetime - EXPIRY_MARGIN, context.principal.exp - time.time())
        await self._cache.set(key, token.encode(), ttl)
        return token

    @staticmethod
    def _exchange_unavailable(retry_after: int | None = None) -> WhataloAPIError:
        return WhataloAPIError(
            503,
            "TOKEN_EXCHANGE_UNAVAILABLE",
            "Whatalo's authorization server could not issue a token for the API; retry shortly",
            retry_after=retry_after or 5,
        )
