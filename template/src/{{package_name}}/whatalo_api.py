"""Whatalo's REST API v1, called with a token obtained by token exchange (``token_exchange.py``).

The inbound token is never sent to the API (no token passthrough). A 401 from the API causes one
fresh exchange and one retry. Failures become ``WhataloAPIError``, which tools turn into MCP tool
errors carrying Whatalo's code and message and the retry delay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx2 as httpx

from . import telemetry
from .authorization_server import retry_after
from .token_exchange import ExchangeFailed, Subject, TokenExchange

log = logging.getLogger(__name__)

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
    """``Retry-After``, else (on a 429) the seconds until Whatalo's ``X-RateLimit-Reset``."""
    seconds = retry_after(response)
    if seconds is not None:
        return seconds
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


@dataclass(frozen=True)
class _Request:
    method: str
    route: str  # the path template: what spans and metrics name the request by
    path: str
    params: Mapping[str, str | int | float] | None
    json: Mapping[str, Any] | None


class WhataloAPI:
    """The process-wide REST client: one connection pool, tokens from the token exchange."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, exchange: TokenExchange) -> None:
        self.base_url = base_url
        self._http = http
        self._exchange = exchange

    async def request(
        self,
        subject: Subject,
        method: str,
        route: str,
        ids: Mapping[str, str] | None = None,
        *,
        scope: str,
        params: Mapping[str, str | int | float] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``method`` on ``route`` (a path template such as ``/v1/products/{id}``) with ``ids`` filled in."""
        path = route.format_map({name: quote(value, safe="") for name, value in ids.items()}) if ids else route
        request = _Request(method, route, path, params, json)
        response = await self._send(subject, request, scope, fresh=False)
        if response.status_code == 401:
            log.info("Whatalo API refused an exchanged token; exchanging again once")
            response = await self._send(subject, request, scope, fresh=True)
        if response.status_code >= 400:
            raise _api_error(response)
        try:
            payload = response.json()
        except ValueError:
            raise WhataloAPIError(502, "BAD_RESPONSE", "Whatalo's API answered something that is not JSON") from None
        if not isinstance(payload, dict):
            raise WhataloAPIError(502, "BAD_RESPONSE", "Whatalo's API answered something that is not a JSON object")
        return payload

    async def _send(self, subject: Subject, request: _Request, scope: str, *, fresh: bool) -> httpx.Response:
        try:
            token = await self._exchange.token(subject, scope, fresh=fresh)
        except ExchangeFailed as exc:
            raise WhataloAPIError(exc.status, exc.code, str(exc), retry_after=exc.retry_after) from None
        method, route = request.method, request.route
        attributes = {"http.request.method": method, "http.route": route}
        span_attributes = {"url.template": route, "whatalo.store.id": subject.principal.store_id}
        try:
            with telemetry.upstream(f"{method} {route}", "api", attributes, span_attributes) as call:
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                telemetry.inject(headers)
                with anyio.fail_after(API_TIMEOUT):
                    response = await self._http.request(
                        method,
                        self.base_url + request.path,
                        params=dict(request.params) if request.params else None,
                        json=dict(request.json) if request.json is not None else None,
                        headers=headers,
                        timeout=API_TIMEOUT,
                    )
                call.status = response.status_code
                return response
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
