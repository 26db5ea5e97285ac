"""The conversation with Whatalo's authorization server: metadata, client authentication, and the
two calls this server makes with its own credentials (RFC 7662 introspection, RFC 8693 exchange).

Endpoints come from the live metadata document (RFC 8414) of the pinned issuer, never from request
data; its ``issuer`` must equal ``WHATALO_ISSUER`` exactly (§3.3). The document is re-read every
few minutes, so a change at Whatalo is picked up without a restart. No redirect is followed, every
call is bounded in time, and an answer that is not what the RFCs describe means the authorization
server cannot decide now (``AuthServerUnavailable``): never that a token is bad.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx2 as httpx

from . import telemetry
from .breaker import CircuitBreaker, CircuitOpen, State
from .settings import Settings
from .urls import authorization_server_metadata_url, require_url

log = logging.getLogger(__name__)

REFRESH_SECONDS = 600.0
RETRY_SECONDS = 2.0
MAX_ANSWER_BYTES = 64 * 1024
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
NOT_AN_ISSUER = "WHATALO_ISSUER must be the issuer itself (https://app.whatalo.com), not an endpoint or a web page"


class DiscoveryError(Exception):
    """The metadata could not be fetched or is not usable. The message and the hint are safe to show."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class AuthServerUnavailable(Exception):
    """No decision is possible now (answer 503, or retry). The message is safe to log.

    ``credentials_refused``: Whatalo refused this server's own client credentials, a configuration
    problem that retrying does not solve.
    """

    def __init__(self, message: str, retry_after: int | None = None, *, credentials_refused: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.credentials_refused = credentials_refused


class ExchangeRefused(Exception):
    """The authorization server refused a token exchange (an OAuth error of RFC 6749 §5.2)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}".rstrip(": "))
        self.status = status
        self.error = error


@dataclass(frozen=True)
class ServerMetadata:
    """What this server uses of the authorization server's metadata, and the whole document."""

    issuer: str
    introspection_endpoint: str
    token_endpoint: str
    document: dict[str, Any]


@dataclass(frozen=True)
class ExchangedToken:
    access_token: str
    expires_in: float | None


def _endpoint(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise DiscoveryError(f"the authorization server metadata has no {name}")
    try:
        return require_url(value)
    except ValueError as exc:
        raise DiscoveryError(f"the authorization server's {name} {exc}") from None


async def discover(http: httpx.AsyncClient, issuer: str, within: float) -> ServerMetadata:
    url = authorization_server_metadata_url(issuer)
    try:
        with anyio.fail_after(within):
            response = await http.get(url, headers={"Accept": "application/json"})
    except (httpx.HTTPError, TimeoutError) as exc:
        raise DiscoveryError(
            f"cannot reach {url} ({type(exc).__name__})",
            "check WHATALO_ISSUER, the network, and that the authorization server is up "
            "(for the local sandbox, run the `sandbox` or `dev` command)",
        ) from None
    if response.status_code != 200:
        raise DiscoveryError(f"{url} answered HTTP {response.status_code}", NOT_AN_ISSUER)
    try:
        document = response.json()
    except ValueError:
        raise DiscoveryError(f"{url} did not answer JSON", NOT_AN_ISSUER) from None
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} did not answer a JSON object", NOT_AN_ISSUER)
    if document.get("issuer") != issuer:
        raise DiscoveryError(
            f"issuer mismatch: WHATALO_ISSUER is {issuer!r} but the metadata says {document.get('issuer')!r}",
            "set WHATALO_ISSUER to exactly the issuer the authorization server names; "
            "scheme, host and port all count (RFC 8414 §3.3)",
        )
    return ServerMetadata(
        issuer=issuer,
        introspection_endpoint=_endpoint(document, "introspection_endpoint"),
        token_endpoint=_endpoint(document, "token_endpoint"),
        document=document,
    )


def client_auth(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form fields that authenticate this server at Whatalo (RFC 6749 §2.3.1)."""
    client_id = settings.whatalo_client_id
    secret = settings.whatalo_client_secret.get_secret_value()
    if settings.whatalo_client_auth_method == "client_secret_post":
        return {}, {"client_id": client_id, "client_secret": secret}
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}, {}


def retry_after(response: httpx.Response) -> int | None:
    """The whole seconds of a ``Retry-After`` header, if it gives them."""
    value = response.headers.get("retry-after")
    return int(value) if value and value.strip().isdigit() else None


async def read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The body of a streamed ``response``, or None as soon as it passes ``limit`` bytes."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class AuthorizationServer:
    """Whatalo's authorization server as this server talks to it: one per process."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings, metadata: ServerMetadata | None = None) -> None:
        """``metadata``: a document the caller just discovered, so the first call needs no discovery."""
        self._http = http
        self._settings = settings
        self.issuer = settings.whatalo_issuer
        self._timeout = settings.introspection_timeout
        self._metadata = metadata
        self._fetched_at = time.monotonic() if metadata is not None else 0.0
        self._failed_at = -RETRY_SECONDS
        self._error: str | None = None
        self._lock = asyncio.Lock()
        # Introspection and token exchange: one server, one breaker. Discovery has its own pause (RETRY_SECONDS).
        self.breaker = CircuitBreaker("Whatalo's authorization server")

    @property
    def discovered(self) -> bool:
        """Metadata of the pinned issuer is at hand (kept through a failed refresh)."""
        return self._metadata is not None

    @property
    def status(self) -> str:
        """``ok``, or what is wrong now, in words safe to show (``/readyz``)."""
        if self.breaker.state is not State.CLOSED:
            return f"failing: unknown tokens answered 503 at once, next trial in {self.breaker.retry_after()} s"
        if self._error:
            return f"metadata refresh failed ({self._error}); using the last good document"
        return "ok"

    @property
    def error(self) -> str | None:
        return self._error

    async def metadata(self) -> ServerMetadata:
        """The metadata, or :class:`DiscoveryError` when there is none that can be trusted."""
        now = time.monotonic()
        stale = self._metadata is None or now - self._fetched_at > REFRESH_SECONDS
        if (stale or self._error) and now - self._failed_at >= RETRY_SECONDS:
            async with self._lock:
                if self._metadata is None or self._error or time.monotonic() - self._fetched_at > REFRESH_SECONDS:
                    await self.refresh()
        if self._metadata is None or (self._error and self._error.startswith("issuer mismatch")):
            raise DiscoveryError(self._error or "authorization server metadata not available")
        return self._metadata

    async def refresh(self) -> None:
        try:
            self._metadata = await discover(self._http, self.issuer, self._timeout)
        except DiscoveryError as exc:
            self._failed_at = time.monotonic()
            if str(exc) != self._error:
                log.error("authorization server discovery failed: %s", exc)
            self._error = str(exc)
            if self._error.startswith("issuer mismatch"):
                self._metadata = None
            return
        self._fetched_at = time.monotonic()
        if self._error:
            log.info("authorization server discovery recovered")
        self._error = None

    async def _endpoints(self) -> ServerMetadata:
        try:
            return await self.metadata()
        except DiscoveryError as exc:
            raise AuthServerUnavailable(str(exc)) from None

    def check_circuit(self) -> None:
        """``AuthServerUnavailable`` at once while the breaker refuses calls: open, or its trial in flight.

        Checked before a miss spends any introspection budget; it takes no trial.
        """
        if self.breaker.refuses():
            raise AuthServerUnavailable(f"{self.breaker.name} is failing (circuit open)", self.breaker.retry_after())

    def _admit(self) -> None:
        try:
            self.breaker.admit()
        except CircuitOpen as exc:
            raise AuthServerUnavailable(str(exc), exc.retry_after) from None

    def _failed(self, message: str, retry_after: int | None = None) -> AuthServerUnavailable:
        """Whatalo is down, slow or overloaded: counted by the breaker; the exception to raise."""
        self.breaker.failed(message)
        return AuthServerUnavailable(message, retry_after)

    def _form(self, **fields: str) -> tuple[dict[str, str], dict[str, str]]:
        headers, form = client_auth(self._settings)
        headers["Accept"] = "application/json"
        form.update(fields)
        return headers, form

    async def introspect(self, token: str) -> dict[str, Any]:
        """The introspection answer for ``token`` (RFC 7662 §2.2): a JSON object with a boolean ``active``."""
        url = (await self._endpoints()).introspection_endpoint
        self._admit()
        headers, form = self._form(token=token, token_type_hint="access_token")
        telemetry.inject(headers)
        try:
            with anyio.fail_after(self._timeout):
                async with self._http.stream("POST", url, data=form, headers=headers) as response:
                    body = await read_at_most(response, MAX_ANSWER_BYTES)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._failed(f"introspection failed: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status == 429:
            raise self._failed(f"introspection answered HTTP {status}", retry_after(response))
        self.breaker.succeeded()  # Whatalo answered; whether the answer is usable is checked below
        if status in (400, 401, 403):
            log.error(
                "the authorization server refused this server's client credentials at introspection "
                "(HTTP %s): check WHATALO_CLIENT_ID, WHATALO_CLIENT_SECRET and WHATALO_CLIENT_AUTH_METHOD",
                status,
            )
            message = f"Whatalo refused this server's credentials at introspection (HTTP {status})"
            raise AuthServerUnavailable(message, credentials_refused=True)
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

    async def exchange(self, subject_token: str, *, resource: str, scope: str) -> ExchangedToken:
        """An access token for ``resource`` with ``scope``, for the subject of ``subject_token`` (RFC 8693)."""
        url = (await self._endpoints()).token_endpoint
        self._admit()
        headers, form = self._form(
            grant_type=TOKEN_EXCHANGE,
            subject_token=subject_token,
            subject_token_type=ACCESS_TOKEN_TYPE,
            resource=resource,
            scope=scope,
        )
        with telemetry.upstream("whatalo.token_exchange", "exchange", {}) as call:
            telemetry.inject(headers)
            try:
                with anyio.fail_after(self._timeout):
                    response = await self._http.post(url, data=form, headers=headers)
            except (httpx.HTTPError, TimeoutError) as exc:
                raise self._failed(f"token exchange failed: {type(exc).__name__}") from None
            call.status = response.status_code
        status = response.status_code
        if status >= 500 or status == 429:
            raise self._failed(f"token exchange answered HTTP {status}", retry_after(response))
        self.breaker.succeeded()
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise AuthServerUnavailable(f"token exchange answered HTTP {status}", retry_after(response))
        if status != 200:
            error = str(payload.get("error", "invalid_request"))
            if error == "invalid_client":
                log.error("Whatalo refused this server's client credentials at token exchange")
            raise ExchangeRefused(status, error, str(payload.get("error_description", ""))[:200])
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthServerUnavailable("token exchange answered no access_token")
        expires_in = payload.get("expires_in")
        lifetime = (
            float(expires_in) if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) else None
        )
        return ExchangedToken(token, lifetime)
