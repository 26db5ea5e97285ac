"""Every refusal path, through the official MCP client, in both protocol eras (MCP 2025-11-25 and 2026-07-28).

Legacy (2025-11-25, ``initialize`` first) and modern (2026-07-28, stateless) clients meet the same
server on the same endpoint. For each way a call can be refused (an argument the tool does not
take, a value out of range, a scope the token lacks, a token that is no good, Whatalo out of
reach) the client sees the refusal its era defines, nothing reaches Whatalo's API, and the same
``Client`` keeps working afterwards.

The server runs the probe tools (``tests.helpers.PROBES``), so the module holds for every scope
selection: ``probe_store`` needs ``read:store``, ``probe_products`` needs ``read:products`` and takes
the project's own ``page``/``per_page`` types (per_page 1 to 100).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError

from tests.helpers import (
    ERAS,
    MODERN,
    PROBE_SCOPES,
    PROBES,
    STORE_A,
    Bearer,
    Exchange,
    challenge_params,
    client_mode,
    sdk_client,
)

Scenario = Callable[[Client, Bearer, list[Exchange]], Awaitable[None]]


def run(url: str, era: str, token: str, scenario: Scenario) -> list[Exchange]:
    """Connect the official client in ``era`` with ``token``, run ``scenario``; every HTTP exchange it made."""
    exchanges: list[Exchange] = []
    auth = Bearer(token)

    async def main() -> None:
        async with sdk_client(url + "/mcp", client_mode(era), auth, exchanges) as client:
            assert client.protocol_version == era
            await scenario(client, auth, exchanges)

    anyio.run(main)
    return exchanges


async def still_works(client: Client) -> None:
    """The same client, after the refusal: a call that is allowed succeeds."""
    result = await client.call_tool("probe_products", {"per_page": 2})
    assert not result.is_error, result.content
    assert len(result.structured_content["data"]) == 2


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


@pytest.mark.parametrize("era", ERAS)
def test_an_unknown_argument_is_a_tool_error_and_the_client_goes_on(probe_server, probe_token, sandbox, era):
    async def scenario(client: Client, auth: Bearer, exchanges: list[Exchange]) -> None:
        before = sandbox.counters.api_calls
        result = await client.call_tool("probe_products", {"store_id": "str_other", "surprise": 1})
        assert result.is_error
        assert text(result) == "probe_products: unknown argument(s) store_id, surprise; it takes page, per_page"
        assert sandbox.counters.api_calls == before  # refused before anything went upstream
        answer = exchanges[-1]
        assert answer.status == 200
        # Shaped by the framework for the request's era: a modern result says what kind it is.
        assert ("resultType" in answer.json()["result"]) is (era == MODERN)
        await still_works(client)

    run(probe_server.url, era, probe_token(), scenario)


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("arguments", [{"per_page": 1000}, {"per_page": 0}, {"page": 0}, {"per_page": "ten"}])
def test_an_out_of_range_or_mistyped_value_is_a_tool_error_naming_the_field(
    probe_server, probe_token, sandbox, era, arguments
):
    async def scenario(client: Client, auth: Bearer, exchanges: list[Exchange]) -> None:
        before = sandbox.counters.api_calls
        result = await client.call_tool("probe_products", arguments)
        assert result.is_error
        assert next(iter(arguments)) in text(result)
        assert sandbox.counters.api_calls == before
        await still_works(client)

    run(probe_server.url, era, probe_token(), scenario)


@pytest.mark.parametrize("era", ERAS)
def test_a_missing_scope_is_a_403_the_client_raises_then_goes_on(probe_server, probe_token, sandbox, era):
    granted = ["read:products"]

    async def scenario(client: Client, auth: Bearer, exchanges: list[Exchange]) -> None:
        before = sandbox.counters.api_calls
        with pytest.raises(MCPError):
            await client.call_tool("probe_store", {})
        refused = exchanges[-1]
        assert refused.status == 403
        params = challenge_params(refused.headers["www-authenticate"])
        assert params["error"] == "insufficient_scope"
        # Legacy era: what the token holds plus what the call needs; modern: what the call needs.
        assert params["scope"] == ("read:store" if era == MODERN else "read:products read:store")
        assert refused.json()["scope"] == params["scope"]
        assert sandbox.counters.api_calls == before  # the tool never ran
        await still_works(client)

    run(probe_server.url, era, probe_token(granted), scenario)


@pytest.mark.parametrize("era", ERAS)
def test_an_invalid_token_is_a_401_the_client_raises_then_goes_on(probe_server, probe_token, era):
    async def scenario(client: Client, auth: Bearer, exchanges: list[Exchange]) -> None:
        good, auth.token = auth.token, "never-issued-token"
        with pytest.raises(MCPError):
            await client.list_tools()
        refused = exchanges[-1]
        assert refused.status == 401
        params = challenge_params(refused.headers["www-authenticate"])
        assert params["error"] == "invalid_token"
        assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource")
        auth.token = good
        await still_works(client)

    run(probe_server.url, era, probe_token(), scenario)


@pytest.mark.parametrize("era", ERAS)
def test_whatalo_down_is_a_503_with_retry_after_then_the_client_goes_on(server_factory, secrets_seen, own_whatalo, era):
    """A Whatalo of its own, stopped while the client is connected, then started again on its port."""
    urls = {"whatalo_issuer": own_whatalo.url, "whatalo_api_url": own_whatalo.url}
    with server_factory(tools=PROBES, **urls) as running:
        connected, fresh = (own_whatalo.state.mint(STORE_A, PROBE_SCOPES, running.resource_url) for _ in range(2))
        secrets_seen.update((connected, fresh))

        async def scenario(client: Client, auth: Bearer, exchanges: list[Exchange]) -> None:
            await client.list_tools()
            await anyio.to_thread.run_sync(own_whatalo.stop)
            auth.token = fresh  # not introspected yet: only Whatalo can say whether it is good
            with pytest.raises(MCPError):
                await client.list_tools()
            refused = exchanges[-1]
            assert refused.status == 503
            assert int(refused.headers["retry-after"]) > 0
            assert "www-authenticate" not in refused.headers  # never a challenge that drops the token
            await anyio.to_thread.run_sync(own_whatalo.restart)
            await still_works(client)

        run(running.url, era, connected, scenario)
