"""Contract §7: store routing, token exchange, no token passthrough (MT-01, MT-03, AUD-04).

These tests run on a server whose tools are two probes defined here, so they hold for every
scope selection: one reads the store through the REST API, one writes a product.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import STORE_A, STORE_B, McpClient
from tests.project import ToolSpec, whatalo


async def probe_store() -> dict[str, Any]:
    """The store this call reached, read through Whatalo's REST API (a tool for these tests only)."""
    return await whatalo().get("/v1/store", scope="read:store")


async def probe_rename(product_id: str, name: str) -> dict[str, Any]:
    """Rename a product through Whatalo's REST API (a tool for these tests only)."""
    return await whatalo().patch(f"/v1/products/{product_id}", scope="write:products", json={"name": name})


PROBES = [
    ToolSpec(probe_store, "read:store", read_only=True),
    ToolSpec(probe_rename, "write:products", read_only=False),
]


@pytest.fixture(scope="module")
def probe_server(server_factory) -> Iterator[tuple[Any, Any]]:
    with server_factory(tools=PROBES) as started:
        yield started


@pytest.fixture
def client(probe_server) -> Iterator[McpClient]:
    client = McpClient(probe_server[1].url)
    yield client
    client.close()


@pytest.fixture
def token(mint, probe_server):
    """``token(store_id=STORE_A, scopes=["read:store"])`` for the probe server."""

    def make(store_id: str = STORE_A, scopes: list[str] | None = None) -> str:
        return mint(
            scopes or ["read:store", "write:products"], store_id=store_id, audience=probe_server[0].mcp_resource_url
        )

    return make


@pytest.mark.parametrize("store_id", [STORE_A, STORE_B])
def test_mt_01_each_token_reaches_its_own_store(client, token, sandbox, store_id):
    result = client.call(token(store_id), "probe_store")
    assert not result.is_error, result.text
    assert result.data["data"]["id"] == store_id == sandbox.stores[store_id].store["id"]


def test_mt_01_client_cannot_choose_the_store(client, token):
    response = client.post(
        client.message("tools/call", {"name": "probe_store", "arguments": {"store_id": STORE_B}}),
        token(STORE_A),
        headers={"X-Whatalo-Store": STORE_B, "X-Store-Id": STORE_B, "Whatalo-Store-Id": STORE_B},
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] and "store_id" in result["content"][0]["text"]  # refused, never obeyed
    assert client.call(token(STORE_A), "probe_store").data["data"]["id"] == STORE_A  # headers are ignored


def test_mt_01_no_cross_store_write(client, token, sandbox):
    product_id = next(iter(sandbox.stores[STORE_A].products))
    before = dict(sandbox.stores[STORE_A].products[product_id])
    result = client.call(token(STORE_B), "probe_rename", {"product_id": product_id, "name": "hijacked"})
    assert result.is_error and "NOT_FOUND" in result.text
    assert sandbox.stores[STORE_A].products[product_id] == before
    own = client.call(token(STORE_A), "probe_rename", {"product_id": product_id, "name": "renamed"})
    assert not own.is_error, own.text
    assert sandbox.stores[STORE_A].products[product_id]["name"] == "renamed"


def test_aud_04_mt_03_token_exchange_never_passthrough(client, token, sandbox):
    inbound = token()
    for _ in range(3):
        assert not client.call(inbound, "probe_store").is_error
    assert sandbox.api_bearer_tokens, "the API was called"
    assert inbound not in sandbox.api_bearer_tokens
    for used in sandbox.api_bearer_tokens:
        issued = sandbox.tokens[used]
        assert issued.aud == sandbox.api_url  # exchanged for the API
        assert issued.scopes == frozenset({"read:store"})  # reduced to the tool's scope
        assert issued.store_id == STORE_A and issued.client_id == "test-mcp-server"
    assert sandbox.counters.exchanges == 1  # cached per (token, scope)


def test_api_401_causes_one_fresh_exchange(client, token, sandbox):
    inbound = token()
    assert not client.call(inbound, "probe_store").is_error
    sandbox.revoke(sandbox.api_bearer_tokens[-1])  # Whatalo drops the exchanged token early
    result = client.call(inbound, "probe_store")
    assert not result.is_error, result.text
    assert sandbox.counters.exchanges == 2


def test_upstream_rate_limit_is_a_tool_error_with_retry(client, token, sandbox):
    sandbox.fail_next_api_call(429, "RATE_LIMITED", "Rate limit exceeded. Try again in 45 seconds.", retry_after=45)
    result = client.call(token(), "probe_store")
    assert result.is_error
    assert "RATE_LIMITED" in result.text and "Rate limit exceeded" in result.text and "45" in result.text


def test_exchange_refused_is_a_clean_tool_error(client, token, sandbox):
    inbound = token()
    assert client.post(client.message("tools/list", {}), inbound).status_code == 200  # introspection now cached
    sandbox.revoke(inbound)  # revoked at Whatalo: the cached result still admits it, the exchange refuses it
    result = client.call(inbound, "probe_store")
    assert result.is_error
    assert "TOKEN_EXCHANGE_REFUSED" in result.text and "invalid_grant" in result.text
    assert inbound not in result.text
