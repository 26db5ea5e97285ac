"""Contract §7: store routing, token exchange, no token passthrough (MT-01, MT-03, AUD-04)."""

from __future__ import annotations

import pytest

from tests.helpers import STORE_A, STORE_B
from tests.project import TOOLS

# A read tool without required arguments shows which store a call reached.
PROBES = {
    "get_store": "store",
    "list_products": "products",
    "list_categories": "categories",
    "list_customers": "customers",
    "list_orders": "orders",
    "list_discounts": "discounts",
    "list_webhooks": "webhooks",
}
PROBE = next((tool for tool in TOOLS if tool.name in PROBES), None)
pytestmark = pytest.mark.skipif(PROBE is None, reason="no argument-free read tool among this project's scopes")


def ids_of(result_data, store) -> set[str]:
    data = result_data["data"]
    return {data["id"]} if isinstance(data, dict) else {item["id"] for item in data}


def expected_ids(sandbox, store_id: str) -> set[str]:
    assert PROBE is not None
    collection = getattr(sandbox.stores[store_id], PROBES[PROBE.name])
    return {collection["id"]} if PROBES[PROBE.name] == "store" else set(collection)


@pytest.mark.parametrize("store_id", [STORE_A, STORE_B])
def test_mt_01_each_token_reaches_its_own_store(mcp, mint, sandbox, store_id):
    assert PROBE is not None
    result = mcp.call(mint([PROBE.scope], store_id=store_id), PROBE.name, {})
    assert not result.is_error, result.text
    got = ids_of(result.data, store_id)
    assert got and got <= expected_ids(sandbox, store_id)
    other = STORE_B if store_id == STORE_A else STORE_A
    assert not got & expected_ids(sandbox, other)


def test_mt_01_client_cannot_choose_the_store(mcp, mint, sandbox):
    assert PROBE is not None
    token = mint([PROBE.scope], store_id=STORE_A)
    response = mcp.post(
        mcp.message(
            "tools/call", {"name": PROBE.name, "arguments": {"store_id": STORE_B, "whatalo_store_id": STORE_B}}
        ),
        token,
        headers={"X-Whatalo-Store": STORE_B, "X-Store-Id": STORE_B},
    )
    assert response.status_code == 200
    result = response.json()["result"]
    if not result.get("isError"):  # extra arguments are either refused or ignored, never obeyed
        data = result["structuredContent"]
        assert not ids_of(data, STORE_A) & expected_ids(sandbox, STORE_B)


def test_aud_04_mt_03_token_exchange_never_passthrough(mcp, mint, sandbox):
    assert PROBE is not None
    token = mint([PROBE.scope])
    for _ in range(3):
        assert not mcp.call(token, PROBE.name, {}).is_error
    assert sandbox.api_bearer_tokens, "the API was called"
    assert token not in sandbox.api_bearer_tokens
    for used in sandbox.api_bearer_tokens:
        issued = sandbox.tokens[used]
        assert issued.aud == sandbox.api_url  # exchanged for the API
        assert issued.scopes == frozenset({PROBE.scope})  # reduced to the tool's scope
        assert issued.store_id == STORE_A and issued.client_id == "test-mcp-server"
    assert sandbox.counters.exchanges == 1  # cached per (token, scope)


def test_api_401_causes_one_fresh_exchange(mcp, mint, sandbox):
    assert PROBE is not None
    token = mint([PROBE.scope])
    assert not mcp.call(token, PROBE.name, {}).is_error
    sandbox.revoke(sandbox.api_bearer_tokens[-1])  # Whatalo drops the exchanged token early
    result = mcp.call(token, PROBE.name, {})
    assert not result.is_error, result.text
    assert sandbox.counters.exchanges == 2


def test_upstream_rate_limit_is_a_tool_error_with_retry(mcp, mint, sandbox):
    assert PROBE is not None
    sandbox.fail_next_api_call(429, "RATE_LIMITED", "Rate limit exceeded. Try again in 45 seconds.", retry_after=45)
    result = mcp.call(mint([PROBE.scope]), PROBE.name, {})
    assert result.is_error
    assert "RATE_LIMITED" in result.text and "45" in result.text


def test_exchange_refused_is_a_clean_tool_error(mcp, mint, sandbox):
    assert PROBE is not None
    token = mint([PROBE.scope])
    assert mcp.post(mcp.message("tools/list", {}), token).status_code == 200  # introspection now cached
    sandbox.revoke(token)  # revoked at Whatalo: the cached result still admits it, the exchange refuses it
    result = mcp.call(token, PROBE.name, {})
    assert result.is_error
    assert "TOKEN_EXCHANGE_REFUSED" in result.text and "invalid_grant" in result.text
    assert token not in result.text
