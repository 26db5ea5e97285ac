"""The probe's HTTP: bounded in time, requests and bytes, and the token goes to the MCP endpoint only.

- At most ``MAX_REQUESTS`` requests and ``TOTAL_SECONDS`` for a whole run, ``REQUEST_SECONDS`` for
  one request, ``MAX_BODY_BYTES`` read of any answer (an event stream is read up to the first
  JSON-RPC response in it).
- Requests to the MCP endpoint are never redirected. Metadata reads carry no credentials and
  follow at most ``MAX_REDIRECTS`` redirects, within the origin they were sent to.
- Only ``post`` (to the endpoint, optionally with a query) may carry the token, and every request
  is checked before it leaves: one holding the token anywhere (URL, a header, the body) for
  another URL raises ``TokenGuard`` instead of being sent.
- Proxies and credentials from the environment (``HTTP_PROXY``, ``.netrc``) are not used: the
  token travels to URL's host and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import httpx2 as httpx

MAX_REQUESTS = 60
TOTAL_SECONDS = 60.0
REQUEST_SECONDS = 10.0
MAX_BODY_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
MAX_EVENTS = 100

Headers = Sequence[tuple[str, str]]


class BudgetExhausted(Exception):
    """The run used up its requests or its time."""


class Unreachable(Exception):
    """No HTTP answer: connection refused, TLS failure, timeout."""


class TokenGuard(Exception):
    """A request would have carried the token somewhere other than the MCP endpoint (never sent)."""


@dataclass(frozen=True)
class Answer:
    url: str  # where the answer came from (after any same-origin redirects)
    status: int
    headers: httpx.Headers
    body: bytes  # at most MAX_BODY_BYTES; for an event stream, the data of the JSON-RPC response in it
    redirected_from: tuple[str, ...] = ()
    stopped_redirect: str | None = None  # the Location of a redirect not followed (another origin, too many hops)
    session_id: str | None = field(default=None)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        return self.content_type == "application/json" or self.content_type.endswith("+json")

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def challenges(self) -> list[str]:
        return self.headers.get_list("www-authenticate")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class ProbeClient:
    """The one HTTP client of a run (see the module docstring for its bounds)."""

    def __init__(self, endpoint: str, token: str | None) -> None:
        self.endpoint = httpx.URL(endpoint)
        self.token = token
        self.requests = 0
        self._deadline = time.monotonic() + TOTAL_SECONDS
        self._http = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(REQUEST_SECONDS, connect=min(5.0, REQUEST_SECONDS)),
            headers={"User-Agent": "mcp-resource-server-probe"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, url: str, headers: Headers = ()) -> Answer:
        """GET without credentials, following same-origin redirects."""
        return await self._read("GET", url, headers)

    async def options(self, url: str, headers: Headers = ()) -> Answer:
        return await self._read("OPTIONS", url, headers)

    async def post(self, headers: Headers, body: bytes, *, query: str = "") -> Answer:
        """POST to the MCP endpoint (``query`` replaces its query string); never redirected."""
        url = self.endpoint.copy_with(query=query.encode()) if query else self.endpoint
        return await self._send("POST", url, headers, body)

    async def delete(self, headers: Headers) -> Answer:
        return await self._send("DELETE", self.endpoint, headers, b"")

    async def _read(self, method: str, url: str, headers: Headers) -> Answer:
        target = httpx.URL(url)
        hops: list[str] = []
        while True:
            answer = await self._send(method, target, headers, b"")
            following = httpx.URL(answer.stopped_redirect) if answer.stopped_redirect else None
            if following is None or _origin(following) != _origin(target) or len(hops) >= MAX_REDIRECTS:
                return replace(answer, redirected_from=tuple(hops))
            hops.append(str(target))
            target = following

    def _check(self, url: httpx.URL, headers: Headers, body: bytes) -> None:
        if not self.token:
            return
        forms = {self.token, quote(self.token, safe="")}
        carried = any(
            form in str(url) or any(form in value for _, value in headers) or form.encode() in body for form in forms
        )
        if carried and url.copy_with(query=None) != self.endpoint.copy_with(query=None):
            raise TokenGuard(f"refused to send the token to {url.copy_with(query=None)}: only URL may receive it")

    async def _send(self, method: str, url: httpx.URL, headers: Headers, body: bytes) -> Answer:
        self._check(url, headers, body)
        remaining = self._deadline - time.monotonic()
        if self.requests >= MAX_REQUESTS or remaining <= 0:
            raise BudgetExhausted(f"the probe's limit of {MAX_REQUESTS} requests or {TOTAL_SECONDS:g} s was reached")
        self.requests += 1
        request = self._http.build_request(method, url, headers=list(headers), content=body or None)
        try:
            async with asyncio.timeout(min(REQUEST_SECONDS, remaining)):
                response = await self._http.send(request, stream=True)
                try:
                    content = await _content(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise Unreachable(f"no answer from {url.host} within {min(REQUEST_SECONDS, remaining):.3g} s") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot reach {url.host}: {type(exc).__name__}: {exc}") from None
        return Answer(
            url=str(url),
            status=response.status_code,
            headers=response.headers,
            body=content,
            stopped_redirect=_redirect(url, response),
            session_id=response.headers.get("mcp-session-id"),
        )


def _redirect(url: httpx.URL, response: httpx.Response) -> str | None:
    """Where a redirect points (resolved against ``url``), or None for any other answer."""
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307, 308) or not location:
        return None
    try:
        return str(url.join(location))
    except httpx.InvalidURL:
        return None


async def _content(response: httpx.Response) -> bytes:
    """The body, bounded; for an event stream, the data of its first JSON-RPC response."""
    if response.headers.get("content-type", "").partition(";")[0].strip().lower() == "text/event-stream":
        events = 0
        async for event in httpx.EventSource(response, max_event_size=MAX_BODY_BYTES):
            events += 1
            try:
                message = json.loads(event.data)
            except ValueError:
                message = None
            if isinstance(message, dict) and "id" in message and ("result" in message or "error" in message):
                return event.data.encode()
            if events >= MAX_EVENTS:
                break
        return b""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk[: MAX_BODY_BYTES - size])
        size += len(chunks[-1])
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)
