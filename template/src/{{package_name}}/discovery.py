"""Whatalo's authorization server metadata (RFC 8414), discovered from the pinned issuer.

Endpoints come from the live document, never from request data; its ``issuer``
must equal ``WHATALO_ISSUER`` exactly (RFC 8414 §3.3). The document is re-read
every few minutes so a change at Whatalo is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2 as httpx

from .settings import check_url

log = logging.getLogger(__name__)

REFRESH_SECONDS = 600.0
RETRY_SECONDS = 2.0


class DiscoveryError(Exception):
    """The metadata could not be fetched or is not usable. The message and the hint are safe to show."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


NOT_AN_ISSUER = "WHATALO_ISSUER must be the issuer itself (https://app.whatalo.com), not an endpoint or a web page"


@dataclass(frozen=True)
class ASMetadata:
    issuer: str
    introspection_endpoint: str
    token_endpoint: str
    document: dict[str, Any]


def metadata_url(issuer: str) -> str:
    """RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path."""
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path.rstrip('/')}"


def _endpoint(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise DiscoveryError(f"the authorization server metadata has no {name}")
    try:
        return check_url(value)
    except ValueError as exc:
        raise DiscoveryError(f"the authorization server's {name} {exc}") from None


async def discover(http: httpx.AsyncClient, issuer: str, within: float) -> ASMetadata:
    url = metadata_url(issuer)
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
    return ASMetadata(
        issuer=issuer,
        introspection_endpoint=_endpoint(document, "introspection_endpoint"),
        token_endpoint=_endpoint(document, "token_endpoint"),
        document=document,
    )


class AuthorizationServer:
    """The current metadata of the pinned issuer, fetched lazily and refreshed in the background of requests."""

    def __init__(self, http: httpx.AsyncClient, issuer: str, timeout: float) -> None:
        self._http = http
        self.issuer = issuer
        self._timeout = timeout
        self._metadata: ASMetadata | None = None
        self._fetched_at = 0.0
        self._failed_at = -RETRY_SECONDS
        self._error: str | None = None
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self._metadata is not None and self._error is None

    @property
    def error(self) -> str | None:
        return self._error

    async def metadata(self) -> ASMetadata:
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
