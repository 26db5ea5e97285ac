"""The tool-call policy reads what a JSON parser reads: no spelling of a tools/call escapes the scope check.

The gate skips parsing bodies that plainly hold no tool call (a shortcut taken on every request);
these bodies spell ``tools/call`` in ways a byte search does not see, and are still refused.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import ENVELOPE, LEGACY, MCP_HEADERS, MODERN
from tests.project import SCOPES, TOOLS

TOOL = TOOLS[0]


def spellings(era: str) -> dict[str, bytes]:
    params: dict[str, object] = {"name": TOOL.name, "arguments": {}}
    if era == MODERN:
        params["_meta"] = ENVELOPE
    plain = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
    return {
        "escaped slash": plain.replace('"tools/call"', '"tools\\/call"').encode(),
        "unicode escape": plain.replace('"tools/call"', '"\\u0074ools/call"').encode(),
        "UTF-16": plain.encode("utf-16"),
        "UTF-32": plain.encode("utf-32"),
    }


@pytest.mark.parametrize("era", [LEGACY, MODERN])
@pytest.mark.parametrize("spelling", ["escaped slash", "unicode escape", "UTF-16", "UTF-32"])
def test_a_tool_call_in_any_spelling_needs_its_scope(mcp, mint, sandbox, era, spelling):
    token = mint(scopes=[scope for scope in SCOPES if scope != TOOL.scope])
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}", "MCP-Protocol-Version": era}
    if era == MODERN:
        headers.update({"Mcp-Method": "tools/call", "Mcp-Name": TOOL.name})
    before = sandbox.counters.api_calls
    response = mcp.http.post(mcp.url, content=spellings(era)[spelling], headers=headers)
    assert response.status_code == 403, (response.status_code, response.text)
    assert response.json()["error"] == "insufficient_scope"
    assert sandbox.counters.api_calls == before
