"""MCP over streamable HTTP, as a client of either protocol era speaks it, in raw JSON-RPC.

Legacy (2025-11-25): ``initialize``, ``notifications/initialized``, then requests carrying
``MCP-Protocol-Version`` (the negotiated one) and the ``Mcp-Session-Id`` the server gave, if any.
Modern (2026-07-28): stateless, every request carries its version, client info and capabilities
in ``params._meta``, and ``MCP-Protocol-Version``, ``Mcp-Method`` and ``Mcp-Name`` headers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .. import PROJECT_NAME, __version__
from .client import Answer, Headers

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
CLIENT_INFO = {"name": f"{PROJECT_NAME} probe", "version": __version__}
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
    "io.modelcontextprotocol/clientCapabilities": {},
}
BASE_HEADERS: Headers = (("Accept", "application/json, text/event-stream"), ("Content-Type", "application/json"))
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # what Mcp-Name may carry without the Base64 sentinel


def header_safe(name: str) -> bool:
    return _HEADER_SAFE.fullmatch(name) is not None


def body(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def initialize(request_id: int) -> dict[str, Any]:
    params = {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": CLIENT_INFO}
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def request(request_id: int, method: str, params: dict[str, Any], *, modern: bool) -> dict[str, Any]:
    if modern:
        params = {**params, "_meta": ENVELOPE}
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def legacy_headers(version: str, session_id: str | None) -> Headers:
    headers = [*BASE_HEADERS, ("MCP-Protocol-Version", version)]
    if session_id:
        headers.append(("Mcp-Session-Id", session_id))
    return headers


def modern_headers(method: str, name: str | None = None) -> Headers:
    headers = [*BASE_HEADERS, ("MCP-Protocol-Version", MODERN), ("Mcp-Method", method)]
    if name is not None:
        headers.append(("Mcp-Name", name))
    return headers


@dataclass(frozen=True)
class Reply:
    """A JSON-RPC response read from an answer: its result, or what stood in its place."""

    result: dict[str, Any] | None
    problem: str | None  # why there is no result: HTTP status, JSON-RPC error, unreadable body


def reply(answer: Answer, seen: str) -> Reply:
    """The JSON-RPC result in ``answer``; ``seen`` is how the caller shows the answer in a problem."""
    if answer.status != 200:
        return Reply(None, seen)
    message = answer.json()
    if not isinstance(message, dict):
        return Reply(None, f"HTTP 200 without a JSON-RPC response ({answer.content_type or 'no content type'})")
    if isinstance(message.get("error"), dict):
        error = message["error"]
        return Reply(None, f"JSON-RPC error {error.get('code')}: {str(error.get('message'))[:200]}")
    result = message.get("result")
    if not isinstance(result, dict):
        return Reply(None, "HTTP 200 with a JSON-RPC response that has no result object")
    return Reply(result, None)
