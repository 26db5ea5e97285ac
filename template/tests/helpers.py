"""Test helpers: demo stores, MCP clients (raw HTTP, and the official SDK's), a WWW-Authenticate parser."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.project import PACKAGE

STORE_A = "str_8k2m4n6p"  # Café La Esquina (DOP)
STORE_B = "str_3j5h7g9f"  # Andes Outdoor (COP)

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

# The two protocol eras every variant serves on /mcp (contract §10). Tests that speak MCP run in both.
LEGACY = "2025-11-25"  # the last revision with the initialize handshake (and sessions)
MODERN = "2026-07-28"  # stateless: version and capabilities in every request's _meta, routing headers
ERAS = (LEGACY, MODERN)
OLDER_LEGACY = ("2025-03-26", "2025-06-18")  # earlier handshake revisions: the legacy era as well
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
NAME_PARAM = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}  # mirrored in Mcp-Name


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
        self.http = httpx.Client(timeout=15)
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

    async with httpx.AsyncClient(auth=auth, timeout=15, event_hooks={"response": [record]}) as http:
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
