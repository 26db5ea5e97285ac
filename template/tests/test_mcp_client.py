"""A real MCP client (the official SDK's ``Client`` over streamable HTTP) works against the server."""

from __future__ import annotations

import anyio
import httpx2 as httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.helpers import STORE_A
from tests.project import TOOLS


def test_official_client_lists_and_calls_tools(server, mint, sandbox):
    token = mint()
    url = server[1].url + "/mcp"

    async def scenario() -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=15) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                listed = await client.list_tools()
                tools = {tool.name: tool for tool in listed.tools}
                assert set(tools) == {tool.name for tool in TOOLS}
                free = [name for name, tool in tools.items() if not tool.input_schema.get("required")]
                name = free[0] if free else next(iter(tools))
                result = await client.call_tool(name, {})
                if free:
                    assert not result.is_error, result.content
                    assert sandbox.api_bearer_tokens  # it reached the store's API with an exchanged token
                    assert all(sandbox.tokens[t].store_id == STORE_A for t in sandbox.api_bearer_tokens)
                else:
                    assert result.is_error  # missing required arguments: a tool error, nothing sent upstream
                    assert not sandbox.api_bearer_tokens

    anyio.run(scenario)
