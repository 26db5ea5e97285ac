"""The tool calls in an MCP request body, read before any framework sees it.

The authentication gate uses them to check scopes per tool, and to refuse arguments a tool does
not take, the same way whatever the framework (one would ignore them, the other refuse them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class MalformedBody(Exception):
    """The body cannot be read as JSON at all (e.g. nested beyond the parser's depth)."""


@dataclass(frozen=True)
class ToolCall:
    id: Any
    name: str
    arguments: dict[str, Any]


def tool_calls(body: bytes) -> tuple[list[ToolCall], bool]:
    """The ``tools/call`` messages in ``body``, and whether the body is a batch.

    A body that is not JSON has none: the framework answers it with a parse error.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return [], False
    except RecursionError:
        raise MalformedBody("JSON nested too deeply") from None
    batch = isinstance(payload, list)
    calls = []
    for message in payload if batch else [payload]:
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            continue
        params = message.get("params")
        if isinstance(params, dict) and isinstance(params.get("name"), str):
            arguments = params.get("arguments")
            calls.append(ToolCall(message.get("id"), params["name"], arguments if isinstance(arguments, dict) else {}))
    return calls, batch


def unknown_arguments_result(call: ToolCall, unknown: list[str], accepted: list[str]) -> dict[str, Any]:
    """The JSON-RPC answer for a call with arguments its tool does not take: a tool error."""
    takes = ", ".join(accepted) or "no arguments"
    text = f"{call.name}: unknown argument(s) {', '.join(unknown)}; it takes {takes}"
    return {"jsonrpc": "2.0", "id": call.id, "result": {"content": [{"type": "text", "text": text}], "isError": True}}
