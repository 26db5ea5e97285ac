"""Store routing, token exchange, no token passthrough (checklist MT-01, MT-03, AUD-04; RFC 8693).

These tests run on the probe server (``tests.helpers.PROBES``), so they hold for every scope
selection: one probe reads the store through the REST API, one writes a product.
"""

from __future__ import annotations

import pytest

from tests.helpers import RS_CLIENT_ID, STORE_A, STORE_B


@pytest.fixture
def client(probe_client):
    """A raw MCP client of the probe server."""
    return probe_client()


@pytest.mark.parametrize("store_id", [STORE_A, STORE_B])
def test_mt_01_each_token_reaches_its_own_store(client, probe_token, sandbox, store_id):
    result = client.call(probe_token(store_id=store_id), "probe_store")
    assert not result.is_error, result.text
    assert result.data["data"]["id"] == store_id == sandbox.stores[store_id].store["id"]


def test_mt_01_client_cannot_choose_the_store(client, probe_token, sandbox):
    before = sandbox.counters.api_calls
    response = client.post(
        client.message("tools/call", {"name": "probe_store", "arguments": {"store_id": STORE_B}}),
        probe_token(store_id=STORE_A),
        headers={"X-Whatalo-Store": STORE_B, "X-Store-Id": STORE_B, "Whatalo-Store-Id": STORE_B},
    )
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["isError"] and "store_id" in result["content"][0]["text"]  # refused, never obeyed
    assert sandbox.counters.api_calls == before
    own = client.call(probe_token(store_id=STORE_A), "probe_store")
    assert own.data["data"]["id"] == STORE_A  # the store headers are ignored too


def test_mt_01_no_cross_store_write(client, probe_token, sandbox):
    product_id = next(iter(sandbox.stores[STORE_A].products))
    before = dict(sandbox.stores[STORE_A].products[product_id])
    result = client.call(probe_token(store_id=STORE_B), "probe_rename", {"product_id": product_id, "name": "hijacked"})
    assert result.is_error and "NOT_FOUND" in result.text
    assert sandbox.stores[STORE_A].products[product_id] == before
    own = client.call(probe_token(store_id=STORE_A), "probe_rename", {"product_id": product_id, "name": "renamed"})
    assert not own.is_error, own.text
    assert sandbox.stores[STORE_A].products[product_id]["name"] == "renamed"


def test_aud_04_mt_03_token_exchange_never_passthrough(client, probe_token, sandbox):
    inbound = probe_token()
    for _ in range(3):
        assert not client.call(inbound, "probe_store").is_error
    assert sandbox.api_bearer_tokens, "the API was called"
    assert inbound not in sandbox.api_bearer_tokens
    for used in sandbox.api_bearer_tokens:
        issued = sandbox.tokens[used]
        assert issued.aud == sandbox.api_url  # exchanged for the API
        assert issued.scopes == frozenset({"read:store"})  # reduced to the tool's scope
        assert issued.store_id == STORE_A and issued.client_id == RS_CLIENT_ID
    assert sandbox.counters.exchanges == 1  # cached per (token, scope)


def test_api_401_causes_one_fresh_exchange(client, probe_token, sandbox):
    inbound = probe_token()
    assert not client.call(inbound, "probe_store").is_error
    sandbox.revoke(sandbox.api_bearer_tokens[-1])  # Whatalo drops the exchanged token early
    result = client.call(inbound, "probe_store")
    assert not result.is_error, result.text
    assert sandbox.counters.exchanges == 2


def test_upstream_rate_limit_is_a_tool_error_with_retry(client, probe_token, sandbox):
    sandbox.fail_next_api_call(429, "RATE_LIMITED", "Rate limit exceeded.", retry_after=45)
    result = client.call(probe_token(), "probe_store")
    assert result.is_error
    assert not sandbox.api_faults  # the call reached Whatalo's API
    assert "RATE_LIMITED" in result.text and "Rate limit exceeded." in result.text
    assert "45 seconds" in result.text  # the delay from Retry-After (Whatalo's message names none)


def test_exchange_refused_is_a_clean_tool_error(client, probe_token, sandbox):
    inbound = probe_token()
    assert client.post(client.message("tools/list", {}), inbound).status_code == 200  # introspection now cached
    sandbox.revoke(inbound)  # revoked at Whatalo: the cached result still admits it, the exchange refuses it
    result = client.call(inbound, "probe_store")
    assert result.is_error
    assert "TOKEN_EXCHANGE_REFUSED" in result.text and "invalid_grant" in result.text
    assert inbound not in result.text
