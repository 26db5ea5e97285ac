"""Test helpers: demo stores, an MCP client over raw HTTP, and a WWW-Authenticate parser."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx

from tests.project import PACKAGE

STORE_A = "str_8k2m4n6p"  # Café La Esquina (DOP)
STORE_B = "str_3j5h7g9f"  # Andes Outdoor (COP)

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


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


class McpClient:
    """Speaks MCP's streamable HTTP transport with plain JSON-RPC posts."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/mcp"
        self.http = httpx.Client(timeout=15)
        self._ids = 0

    def close(self) -> None:
        self.http.close()

    def post(self, payload: Any, token: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        all_headers = dict(MCP_HEADERS)
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        return self.http.post(self.url, content=json.dumps(payload), headers=all_headers)

    def message(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._ids += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._ids, "method": method}
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
