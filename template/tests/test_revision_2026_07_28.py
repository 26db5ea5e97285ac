"""MCP 2026-07-28: what the revision's authorization and transport changes ask of a resource server.

One test per requirement, named after it, under a comment naming the section of the revision it
comes from (docs/resource-server-checklist.md maps them). Raw HTTP where a conforming client would
never send the request; both eras wherever the requirement reaches the legacy era too. The probe
tools (``tests.helpers.PROBES``) make the module hold for every scope selection: ``probe_store``
needs ``read:store``, ``probe_products`` ``read:products``.
"""

from __future__ import annotations

import base64
from typing import Any

import anyio
import pytest

from tests.helpers import (
    ERAS,
    LEGACY,
    MCP_HEADERS,
    MODERN,
    OLDER_LEGACY,
    Bearer,
    Exchange,
    McpClient,
    challenge_params,
    client_mode,
    era_headers,
    sdk_client,
)
from tests.project import PROJECT_NAME, TOOLS, policy

UNRELATED = "read:analytics"  # a Whatalo scope no tool of any project needs
BOTH = ["read:store", "read:products"]  # what probe_store and probe_products need


def call(mcp: McpClient, token: str, tool: str, headers: dict[str, str | None] | None = None) -> Any:
    return mcp.post(mcp.message("tools/call", {"name": tool, "arguments": {}}), token, headers)


def scope_of(response: Any) -> str:
    assert response.status_code == 403, (response.status_code, response.text)
    params = challenge_params(response.headers["www-authenticate"])
    assert params["error"] == "insufficient_scope"
    assert response.json()["scope"] == params["scope"]
    return params["scope"]


# -- Authorization §Refresh Tokens: SHOULD NOT put offline_access in scopes_supported or a challenge --


def test_offline_access_is_never_advertised_nor_challenged(mcp, resource_url, probe_client, probe_token):
    metadata = mcp.http.get(resource_url + "/.well-known/oauth-protected-resource").json()
    assert "offline_access" not in metadata["scopes_supported"]
    no_credentials = mcp.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert "offline_access" not in challenge_params(no_credentials.headers["www-authenticate"])["scope"].split()
    # A token granted offline_access: the legacy era's challenge repeats what the token holds, except that.
    granted = probe_token(["offline_access", "read:products"])
    for era in (None, LEGACY):
        assert scope_of(call(probe_client(era), granted, "probe_store")) == "read:products read:store"
    assert scope_of(call(probe_client(MODERN), granted, "probe_store")) == "read:store"


# -- Authorization §Scope Challenge Handling (SEP-2350): the challenge's scope per era --


@pytest.mark.parametrize("version", [None, *OLDER_LEGACY, LEGACY, MODERN])
def test_step_up_challenge_follows_the_request_era(probe_client, probe_token, sandbox, version):
    before = sandbox.counters.api_calls
    response = call(probe_client(version), probe_token(["read:products"]), "probe_store")
    expected = "read:store" if version == MODERN else "read:products read:store"
    assert scope_of(response) == expected
    params = challenge_params(response.headers["www-authenticate"])
    assert params["error_description"] == "this call needs the scope(s) read:store"
    assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource")
    assert sandbox.counters.api_calls == before


# -- §Scope Challenge Handling: SHOULD name every scope the operation needs in a single challenge --


@pytest.mark.parametrize("era", ERAS)
def test_one_challenge_names_every_scope_the_call_needs(probe_client, probe_token, era):
    """Ask for exactly what the challenge names, retry: the call runs, no second challenge."""
    mcp = probe_client(era)
    challenged = scope_of(call(mcp, probe_token([UNRELATED]), "probe_store")).split()
    retried = call(mcp, probe_token(challenged), "probe_store")
    assert retried.status_code == 200, retried.text
    assert not retried.json()["result"].get("isError"), retried.text


def test_a_legacy_batch_is_challenged_for_all_its_calls_at_once(probe_client, probe_token):
    mcp = probe_client(LEGACY)
    batch = [mcp.message("tools/call", {"name": name, "arguments": {}}) for name in ("probe_store", "probe_products")]
    assert scope_of(mcp.post(batch, probe_token([UNRELATED]))) == " ".join(sorted([UNRELATED, *BOTH]))


@pytest.mark.parametrize("era", [None, *ERAS])
def test_a_batch_is_never_run(probe_client, probe_token, sandbox, era):
    """Streamable HTTP §Sending Messages: one JSON-RPC message per POST; a batch is a 400 in every era."""
    mcp, before = probe_client(era), sandbox.counters.api_calls
    batch = [mcp.message("tools/call", {"name": "probe_products", "arguments": {}}) for _ in range(2)]
    response = mcp.post(batch, probe_token(BOTH))
    assert response.status_code == 400, response.text
    assert sandbox.counters.api_calls == before


# -- §Step-Up Authorization Flow: servers MUST account for scope hierarchies --


@pytest.mark.parametrize("era", ERAS)
def test_scope_hierarchy_whatalo_defines_none_and_policy_is_the_one_place(probe_client, probe_token, monkeypatch, era):
    """Whatalo documents no hierarchy: write:products does not include read:products. The decision
    lives in ``policy.IMPLIED``; one written there is honoured by the gate at once."""
    assert policy.IMPLIED == {}
    writer = probe_token(["write:products"])
    assert "read:products" in scope_of(call(probe_client(era), writer, "probe_products")).split()
    monkeypatch.setattr(policy, "IMPLIED", {"write:products": frozenset({"read:products"})})
    # Past the gate now. (The tool's own token exchange is then Whatalo's to decide: the sandbox,
    # like Whatalo, knows no hierarchy and refuses, which the tool reports as a tool error.)
    allowed = call(probe_client(era), writer, "probe_products")
    assert allowed.status_code == 200 and "result" in allowed.json(), allowed.text


# -- Streamable HTTP §Request Metadata, §Server Validation: headers MUST agree with the body --


@pytest.mark.parametrize(
    "headers",
    [
        {"Mcp-Method": "tools/list"},  # the method header names another method
        {"Mcp-Name": "probe_store"},  # the name header names another tool
        {"Mcp-Name": None},  # the name header is missing
        {"Mcp-Method": None},  # the method header is missing
    ],
    ids=["method differs", "name differs", "no name", "no method"],
)
def test_routing_headers_that_disagree_with_the_body_are_400_header_mismatch(
    probe_client, probe_token, sandbox, headers
):
    before = sandbox.counters.api_calls
    response = call(probe_client(MODERN), probe_token(BOTH), "probe_products", headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == -32020  # HeaderMismatch, written by the framework
    assert sandbox.counters.api_calls == before


def test_a_base64_encoded_mcp_name_is_decoded_before_it_is_compared(probe_client, probe_token):
    encoded = "=?base64?" + base64.b64encode(b"probe_products").decode() + "?="
    response = call(probe_client(MODERN), probe_token(BOTH), "probe_products", {"Mcp-Name": encoded})
    assert response.status_code == 200 and not response.json()["result"].get("isError"), response.text


def test_a_protocol_version_header_that_disagrees_with_the_envelope_is_400(probe_client, probe_token):
    mcp = probe_client(MODERN)
    message = mcp.message("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": LEGACY}})
    response = mcp.post(message, probe_token(BOTH))
    assert response.status_code == 400 and response.json()["error"]["code"] == -32020


@pytest.mark.parametrize("era", [None, *ERAS])
def test_the_gate_decides_on_the_body_never_on_the_headers(probe_client, probe_token, sandbox, era):
    """A token with ``read:products`` only. The headers claim an allowed call; the body is what runs."""
    mcp, reader = probe_client(era), probe_token(["read:products"])
    # The body calls a tool the token may not use: 403, whatever Mcp-Method and Mcp-Name say.
    for lies in ({"Mcp-Method": "tools/call", "Mcp-Name": "probe_products"}, {"Mcp-Method": "tools/list"}):
        assert "read:store" in scope_of(call(mcp, reader, "probe_store", lies)).split()
    # The body calls an allowed tool while Mcp-Name names a forbidden one: past the gate. The modern
    # transport then refuses the disagreement; the legacy one defines no such headers and runs the body.
    response = call(mcp, reader, "probe_products", {"Mcp-Method": "tools/call", "Mcp-Name": "probe_store"})
    if era == MODERN:
        assert response.status_code == 400 and response.json()["error"]["code"] == -32020
    else:
        assert response.status_code == 200 and not response.json()["result"].get("isError"), response.text


# -- Streamable HTTP §Earlier Streamable HTTP Revisions: GET and DELETE on the MCP endpoint --


@pytest.mark.parametrize("era", [None, *ERAS])
def test_get_and_delete_are_405_in_every_era(mcp, mint, era):
    """Stateless in both eras: no stream for a GET to open, no session for a DELETE to end.

    The gate answers both, after authenticating them (without a token both are 401 first:
    test_authentication::test_hdr_10), with 405 and ``Allow: POST`` (RFC 9110 §15.5.6: the methods
    that work), in every era alike.
    """
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {mint()}", **era_headers(era)}
    for method in ("GET", "DELETE"):
        response = mcp.http.request(method, mcp.url, headers={**headers, "Mcp-Session-Id": "0123456789abcdef"})
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == "POST", method
        assert "text/event-stream" not in response.headers.get("content-type", "")
        assert "mcp-session-id" not in response.headers


@pytest.mark.parametrize("era", [None, *ERAS])
def test_every_other_method_is_the_same_405_whatever_the_framework(mcp, mint, era):
    """PUT, PATCH, HEAD and an OPTIONS that is no CORS preflight: the gate's 405 ``Allow: POST``, never the
    framework's own answer (which differs by framework)."""
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {mint()}", **era_headers(era)}
    for method in ("PUT", "PATCH", "HEAD", "OPTIONS"):
        response = mcp.http.request(method, mcp.url, headers=headers, content=b"{}")
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == "POST", method
        assert "jsonrpc" not in response.text, method
    without_token = mcp.http.request("PUT", mcp.url, headers=MCP_HEADERS, content=b"{}")
    assert without_token.status_code == 401  # authenticated first, as every method but a bare OPTIONS


# -- Basic §Statelessness; Streamable HTTP: no sessions, a request stands alone --


@pytest.mark.parametrize("era", [None, *ERAS])
def test_session_ids_and_last_event_ids_are_ignored_and_never_minted(mcp, mint, era):
    mcp.era = era
    token = mint()
    init = {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    first = mcp.message("initialize", init) if era != MODERN else mcp.message("server/discover")
    for response in (
        mcp.post(first, token),
        mcp.post(mcp.message("tools/list"), token, {"Mcp-Session-Id": "0123456789abcdef", "Last-Event-ID": "7"}),
    ):
        assert response.status_code == 200, response.text
        assert "mcp-session-id" not in response.headers


@pytest.mark.parametrize("era", [None, *ERAS])
def test_a_notification_is_202_with_no_body(mcp, mint, era):
    mcp.era = era
    notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    response = mcp.post(notification, mint())
    assert response.status_code == 202 and response.content == b""


# -- Basic §Per-request protocol fields; Streamable HTTP §Protocol Version Header --


def test_a_modern_request_without_its_envelope_is_400_invalid_params(mcp, mint):
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}
    response = mcp.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}, mint(), headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == -32602


def test_an_unsupported_version_is_400_naming_the_supported_ones(mcp, mint):
    meta = {"io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": {}}
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}
    headers = {"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/list"}
    assert mcp.post(message, None, headers).status_code == 401  # authentication comes first
    response = mcp.post(message, mint(), headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022 and MODERN in error["data"]["supported"]


def test_an_unknown_method_is_404_method_not_found_in_the_modern_era(mcp, mint):
    mcp.era = MODERN
    response = mcp.post(mcp.message("ping"), mint())  # removed in 2026-07-28
    assert response.status_code == 404 and response.json()["error"]["code"] == -32601


# -- Streamable HTTP §Security & Endpoint: Origin checked on every request, 403 when not allowed --


@pytest.mark.parametrize("era", [None, *ERAS])
def test_a_foreign_origin_is_403_in_every_era(mcp, mint, era):
    mcp.era = era
    refused = mcp.post(mcp.message("tools/list"), mint(), {"Origin": "https://evil.example"})
    assert refused.status_code == 403
    allowed = mcp.post(mcp.message("tools/list"), mint(), {"Origin": "http://localhost:6274"})
    assert allowed.status_code == 200, allowed.text


# -- server/discover and the lists need a valid token only (no tool's scope), with the official client --


@pytest.mark.parametrize("mode", [*(client_mode(era) for era in ERAS), "auto"])
def test_discover_and_tools_list_need_only_a_valid_token(server, mint, mode):
    token = mint([UNRELATED])  # valid, but no tool of this project needs it
    exchanges: list[Exchange] = []

    async def scenario() -> None:
        async with sdk_client(server.mcp_url, mode, Bearer(token), exchanges) as sdk:
            assert sdk.protocol_version == (LEGACY if mode == "legacy" else MODERN)
            assert {tool.name for tool in (await sdk.list_tools()).tools} == {tool.name for tool in TOOLS}

    anyio.run(scenario)
    assert all(e.status in (200, 202) for e in exchanges), [(e.status, e.body) for e in exchanges]
    if mode == "auto":
        assert exchanges[0].request_headers["mcp-method"] == "server/discover"


def test_server_discover_over_raw_http_with_an_unrelated_scope(mcp, mint):
    mcp.era = MODERN
    response = mcp.post(mcp.message("server/discover"), mint([UNRELATED]))
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert MODERN in result["supportedVersions"] and result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == PROJECT_NAME


def test_tools_list_is_cacheable_and_in_a_fixed_order(mcp, mint):
    """SEP-2549: ``ttlMs`` and ``cacheScope`` on every list result; tools in a deterministic order."""
    mcp.era = MODERN
    token = mint([UNRELATED])
    first, second = (mcp.rpc(token, "tools/list") for _ in range(2))
    assert isinstance(first["ttlMs"], int) and first["cacheScope"] in ("public", "private")
    assert [tool["name"] for tool in first["tools"]] == [tool["name"] for tool in second["tools"]]
