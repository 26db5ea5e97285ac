"""A real MCP client (the official SDK's ``Client`` over streamable HTTP) works against the server, in both eras."""

from __future__ import annotations

import anyio
import pytest

from tests.helpers import (
    ERAS,
    LEGACY,
    MODERN,
    STORE_A,
    Bearer,
    Exchange,
    client_mode,
    minimal_arguments,
    pick_tool,
    sdk_client,
)
from tests.project import TOOLS


@pytest.mark.parametrize("era", ERAS)
def test_official_client_lists_and_calls_tools(server, mint, sandbox, era):
    token = mint()
    tool = pick_tool(list(TOOLS))
    exchanges: list[Exchange] = []

    async def scenario() -> None:
        async with sdk_client(server.mcp_url, client_mode(era), Bearer(token), exchanges) as client:
            assert client.protocol_version == era
            listed = await client.list_tools()
            assert {listed_tool.name for listed_tool in listed.tools} == {spec.name for spec in TOOLS}
            result = await client.call_tool(tool.name, minimal_arguments(tool, sandbox.stores[STORE_A]))
            assert not result.is_error, result.content
            assert sandbox.api_bearer_tokens  # it reached the store's API with an exchanged token
            assert all(sandbox.tokens[t].store_id == STORE_A for t in sandbox.api_bearer_tokens)

    anyio.run(scenario)
    versions = [e.request_headers.get("mcp-protocol-version") for e in exchanges]
    results = [e.json()["result"] for e in exchanges if e.body]
    if era == LEGACY:  # the handshake first, then the negotiated version on every request
        assert versions[0] is None and results[0]["protocolVersion"] == LEGACY
        assert set(versions[1:]) == {LEGACY}
    else:  # stateless: no handshake, every request carries the version; every result says its type
        assert set(versions) == {MODERN}
        assert all(result["resultType"] == "complete" for result in results)
    assert all("mcp-session-id" not in e.headers for e in exchanges)  # stateless in both eras


def test_official_client_negotiates_the_modern_revision_by_default(server, mint):
    """``mode="auto"`` (the SDK's default) probes ``server/discover`` and settles on 2026-07-28 here."""
    exchanges: list[Exchange] = []

    async def scenario() -> None:
        async with sdk_client(server.mcp_url, "auto", Bearer(mint()), exchanges) as client:
            assert client.protocol_version == MODERN
            assert (await client.list_tools()).tools

    anyio.run(scenario)
    assert exchanges[0].request_headers["mcp-method"] == "server/discover"
    assert MODERN in exchanges[0].json()["result"]["supportedVersions"]
    assert "initialize" not in {e.request_headers.get("mcp-method") for e in exchanges}
