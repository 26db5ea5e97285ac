"""The tool calls in an MCP request body, read before any framework sees it.

The authentication gate uses them to check the scopes each call needs. The body decides, never a
header: a ``Mcp-Name`` header that disagrees with the body is the framework's to refuse.
"""

from __future__ import annotations

import json


class MalformedBody(Exception):
    """The body cannot be read as JSON at all (e.g. nested beyond the parser's depth)."""


def tool_names(body: bytes) -> list[str]:
    """The tool names of the ``tools/call`` messages in ``body`` (one message, or a legacy batch).

    A body that is not JSON has none: the framework answers it with a parse error.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    except RecursionError:
        raise MalformedBody("the request body is JSON nested too deeply") from None
    names = []
    for message in payload if isinstance(payload, list) else [payload]:
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            continue
        params = message.get("params")
        if isinstance(params, dict) and isinstance(params.get("name"), str):
            names.append(params["name"])
    return names
