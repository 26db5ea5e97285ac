"""What the test modules share: the demo stores, the running servers' handles, the probe tools, every
tool's minimal arguments, MCP clients (raw HTTP, and the official SDK's) and a WWW-Authenticate parser.

Test modules import from here (and from ``tests.project``), never from one another or from ``conftest``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.project import (
    PACKAGE,
    BackgroundServer,
    Page,
    PerPage,
    SandboxState,
    Settings,
    StoreData,
    ToolSpec,
    create_sandbox_app,
    listening_socket,
    whatalo,
)

STORE_A = "str_8k2m4n6p"  # Café La Esquina (DOP)
STORE_B = "str_3j5h7g9f"  # Andes Outdoor (COP)
RS_CLIENT_ID = "test-mcp-server"  # the MCP server's own client at the sandbox (introspection, token exchange)
REDIRECT_URI = "http://127.0.0.1:8765/callback"  # a host's; never opened: the merchant's answer is read from it

# Every HTTP client of the tests verifies TLS with this one context: the tests speak plain HTTP to
# 127.0.0.1, and building a context per client (what httpx does by default) costs ~17 ms each time.
TLS_CONTEXT = ssl.create_default_context()

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}  # a request that needs no scope

# The two protocol eras every variant serves on /mcp. Tests that speak MCP run in both.
LEGACY = "2025-11-25"  # the last revision with the initialize handshake (and sessions)
MODERN = "2026-07-28"  # stateless: version and capabilities in every request's _meta, routing headers
ERAS = (LEGACY, MODERN)
OLDER_LEGACY = ("2025-03-26", "2025-06-18")  # earlier handshake revisions: the legacy era as well
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
NAME_PARAM = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}  # mirrored in Mcp-Name


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with listening_socket() as sock:
        port: int = sock.getsockname()[1]
        return port


# -- the running servers ------------------------------------------------------


@dataclass(frozen=True)
class RunningSandbox:
    """The sandbox Whatalo of the run: its state, its HTTP server, and the MCP server's client secret there."""

    state: SandboxState
    server: BackgroundServer
    client_secret: str

    @property
    def url(self) -> str:
        return self.server.url


@dataclass(frozen=True)
class RunningServer:
    """An MCP server started for the tests: the settings it runs with, and its HTTP server."""

    settings: Settings
    server: BackgroundServer

    @property
    def url(self) -> str:
        """The server's base URL (``http://127.0.0.1:<port>``)."""
        return self.server.url

    @property
    def mcp_url(self) -> str:
        return self.server.url + "/mcp"

    @property
    def resource_url(self) -> str:
        """The resource URL the server was configured with: a token's audience."""
        return self.settings.mcp_resource_url


class OwnWhatalo:
    """A sandbox Whatalo of one test's own, which the test may stop and start again on the same port."""

    def __init__(self, client_secret: str) -> None:
        self.state = SandboxState()
        sock = listening_socket()
        self.port: int = sock.getsockname()[1]
        self.server = BackgroundServer(create_sandbox_app(self.state), sock=sock).start()
        self.url = self.server.url
        self.state.issuer = self.state.api_url = self.url
        self.state.register_confidential_client(RS_CLIENT_ID, client_secret)

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        """Start again on the same port, with the same state (tokens, clients, stores)."""
        self.server = BackgroundServer(create_sandbox_app(self.state), port=self.port).start()


# -- probe tools: tools for the tests only, so a module holds for every scope selection --


async def probe_store() -> dict[str, Any]:
    """The store this call reached, read through Whatalo's REST API (a tool for the tests only)."""
    return await whatalo().get("/v1/store", scope="read:store")


async def probe_rename(product_id: str, name: str) -> dict[str, Any]:
    """Rename a product through Whatalo's REST API (a tool for the tests only)."""
    return await whatalo().patch("/v1/products/{id}", id=product_id, scope="write:products", json={"name": name})


async def probe_products(page: Page = 1, per_page: PerPage = 25) -> dict[str, Any]:
    """One page of the store's products, read through Whatalo's REST API (a tool for the tests only)."""
    return await whatalo().get("/v1/products", scope="read:products", params={"page": page, "per_page": per_page})


# The probe server's tools: one reads the store, one writes a product, one takes the project's own
# page/per_page types (per_page 1 to 100).
PROBES = [
    ToolSpec(probe_store, "read:store", read_only=True),
    ToolSpec(probe_rename, "write:products", read_only=False),
    ToolSpec(probe_products, "read:products", read_only=True),
]
PROBE_SCOPES = [probe.scope for probe in PROBES]


# -- every tool's minimal arguments --------------------------------------------


def first(objects: dict[str, Any]) -> str:
    """The ID of a store's first object of a kind."""
    return next(iter(objects))


def first_pending_order(store: StoreData) -> str:
    return next(oid for oid, order in store.orders.items() if order["status"] == "pending")


WEBHOOK_URL = "https://hooks.example.com/whatalo"

# tool name -> the arguments of a call that succeeds on ``store`` (a demo store) and so reaches
# Whatalo's API. Every tool of every scope is here: a tool added without an entry fails
# test_tools_table::test_every_tool_has_minimal_arguments.
MINIMAL_ARGUMENTS: dict[str, Callable[[StoreData], dict[str, Any]]] = {
    "get_store": lambda store: {},
    "list_products": lambda store: {},
    "get_product": lambda store: {"product_id": first(store.products)},
    "count_products": lambda store: {},
    "create_product": lambda store: {"name": "Té verde", "price": 900},
    "update_product": lambda store: {"product_id": first(store.products), "price": 1},
    "deactivate_product": lambda store: {"product_id": first(store.products)},
    "delete_product": lambda store: {"product_id": first(store.products)},
    "list_categories": lambda store: {},
    "get_category": lambda store: {"category_id": first(store.categories)},
    "create_category": lambda store: {"name": "Repostería"},
    "update_category": lambda store: {"category_id": first(store.categories), "name": "Bebidas frías"},
    "delete_category": lambda store: {"category_id": first(store.categories)},
    "get_inventory": lambda store: {"product_id": first(store.products)},
    "adjust_inventory": lambda store: {"product_id": first(store.products), "quantity": 5, "reason": "restock"},
    "list_customers": lambda store: {},
    "get_customer": lambda store: {"customer_id": first(store.customers)},
    "create_customer": lambda store: {"name": "Ana Pérez"},
    "update_customer": lambda store: {"customer_id": first(store.customers), "notes": "Prefers delivery after 5 pm."},
    "list_orders": lambda store: {},
    "get_order": lambda store: {"order_id": first(store.orders)},
    "get_order_items": lambda store: {"order_id": first(store.orders)},
    "update_order_status": lambda store: {"order_id": first_pending_order(store), "status": "confirmed"},
    "list_discounts": lambda store: {},
    "get_discount": lambda store: {"discount_id": first(store.discounts)},
    "validate_discount": lambda store: {"code": store.discounts[first(store.discounts)]["code"], "order_total": 5000},
    "create_discount": lambda store: {"code": "PRUEBA15", "type": "percentage", "value": 15},
    "update_discount": lambda store: {"discount_id": first(store.discounts), "is_active": False},
    "delete_discount": lambda store: {"discount_id": first(store.discounts)},
    "list_webhooks": lambda store: {},
    "create_webhook": lambda store: {"url": WEBHOOK_URL, "events": ["order.created"]},
    "delete_webhook": lambda store: {"webhook_id": first(store.webhooks)},
}


def minimal_arguments(tool: ToolSpec, store: StoreData) -> dict[str, Any]:
    """The arguments of a call of ``tool`` that succeeds on ``store``."""
    return MINIMAL_ARGUMENTS[tool.name](store)


def pick_tool(tools: list[ToolSpec]) -> ToolSpec:
    """``get_store`` if there (its answer names the store), else the first tool."""
    return min(tools, key=lambda tool: tool.name != "get_store")


# -- MCP clients ----------------------------------------------------------------


@dataclass
class ToolResult:
    is_error: bool
    text: str
    data: Any


def challenge_params(header: str) -> dict[str, str]:
    """Parameters of a Bearer challenge (RFC 9110 §11.2); fails on a repeated name."""
    assert header.startswith("Bearer "), header
    params: dict[str, str] = {}
    for name, quoted, token in re.findall(r'([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', header[7:]):
        assert name not in params, f"parameter {name} repeated in {header}"
        params[name] = quoted or token
    return params


def era_headers(version: str | None, payload: Any = None) -> dict[str, str]:
    """The headers a client of ``version`` sends with ``payload``: none (a pre-2025-06-18 client),
    ``MCP-Protocol-Version`` (the legacy era), or that plus ``Mcp-Method`` and ``Mcp-Name`` (modern)."""
    if version is None:
        return {}
    headers = {"MCP-Protocol-Version": version}
    if version == MODERN and isinstance(payload, dict) and isinstance(payload.get("method"), str):
        headers["Mcp-Method"] = payload["method"]
        name = (payload.get("params") or {}).get(NAME_PARAM.get(payload["method"], ""))
        if isinstance(name, str):
            headers["Mcp-Name"] = name
    return headers


class McpClient:
    """Speaks MCP's streamable HTTP transport with plain JSON-RPC posts.

    ``era=None`` sends no protocol headers (read as the legacy era); ``era=LEGACY`` (or an older
    handshake revision) sends ``MCP-Protocol-Version``; ``era=MODERN`` also puts the per-request
    envelope in ``params._meta`` and mirrors the method and name into ``Mcp-Method``/``Mcp-Name``.
    """

    def __init__(self, base_url: str, era: str | None = None) -> None:
        self.url = base_url + "/mcp"
        self.era = era
        self.http = httpx.Client(timeout=15, verify=TLS_CONTEXT)
        self._ids = 0

    def close(self) -> None:
        self.http.close()

    def post(
        self, payload: Any, token: str | None = None, headers: dict[str, str | None] | None = None
    ) -> httpx.Response:
        """POST ``payload``; ``headers`` add to or replace the era's headers (None leaves one out)."""
        all_headers: dict[str, str | None] = {**MCP_HEADERS, **era_headers(self.era, payload)}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        sent = {name: value for name, value in all_headers.items() if value is not None}
        return self.http.post(self.url, content=json.dumps(payload), headers=sent)

    def message(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._ids += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._ids, "method": method}
        if self.era == MODERN:
            params = {**(params or {}), "_meta": {**ENVELOPE, **(params or {}).get("_meta", {})}}
        if params is not None:
            message["params"] = params
        return message

    def rpc(self, token: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(self.message(method, params), token)
        assert response.status_code == 200, (response.status_code, response.text)
        body = response.json()
        assert "result" in body, body
        result: dict[str, Any] = body["result"]
        return result

    def call(self, token: str, name: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        result = self.rpc(token, "tools/call", {"name": name, "arguments": arguments or {}})
        text = "\n".join(part.get("text", "") for part in result.get("content", []) if part.get("type") == "text")
        is_error = bool(result.get("isError"))
        data = result.get("structuredContent")
        if data is None and not is_error:
            data = json.loads(text)
        return ToolResult(is_error=is_error, text=text, data=data)

    def list_tools(self, token: str) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = self.rpc(token, "tools/list", {})["tools"]
        return tools


class Bearer(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request; ``token`` may change between requests."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@dataclass
class Exchange:
    """One HTTP request an SDK client made, and the answer it got."""

    method: str
    path: str
    status: int
    request_headers: httpx.Headers
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def pkce() -> tuple[str, str]:
    """A fresh PKCE ``(code_verifier, code_challenge)`` pair, S256 (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def client_mode(era: str) -> str:
    """``mcp.Client``'s ``mode=`` for an era: the initialize handshake, or the modern revision pinned."""
    return "legacy" if era == LEGACY else era


@asynccontextmanager
async def sdk_client(
    url: str, mode: str, auth: httpx.Auth, exchanges: list[Exchange] | None = None
) -> AsyncIterator[Client]:
    """The official SDK's ``Client`` on ``url`` over streamable HTTP, every exchange recorded in ``exchanges``."""

    async def record(response: httpx.Response) -> None:
        if exchanges is None:
            return
        json_body = response.headers.get("content-type", "").startswith("application/json")
        body = await response.aread() if json_body else b""
        request = response.request
        exchanges.append(
            Exchange(request.method, request.url.path, response.status_code, request.headers, response.headers, body)
        )

    hooks = {"response": [record]}
    async with httpx.AsyncClient(auth=auth, timeout=15, verify=TLS_CONTEXT, event_hooks=hooks) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            yield client


def raw_request(url: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """POST with exactly these header bytes (HTTP clients refuse to send malformed ones)."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path or '/'} HTTP/1.1".encode(), f"Host: {parts.netloc}".encode()]
    lines += [name + b": " + value for name, value in headers]
    lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close", b"", b""]
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as sock:
        sock.sendall(b"\r\n".join(lines) + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, content = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, content


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The project's command line in a subprocess, with only PATH and ``env`` in its environment."""
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
    )
