"""Every authentication outcome (RFC 6750, RFC 7662, MCP authorization), over real HTTP. Checklist ids in test names."""

from __future__ import annotations

import json

import httpx2 as httpx
import pytest

from tests.helpers import ERAS, MCP_HEADERS, MODERN, TOOLS_LIST, challenge_params, era_headers, raw_request
from tests.project import SCOPES, TOOLS

RAW_MCP_HEADERS = [(name.encode(), value.encode()) for name, value in MCP_HEADERS.items()]
TOOL = TOOLS[0]


def raw_post(mcp, headers: list[tuple[str, str]], url_suffix: str = "", content: str | None = None) -> httpx.Response:
    """POST with exactly these extra headers (repeats allowed)."""
    all_headers = list(MCP_HEADERS.items()) + headers
    return mcp.http.post(mcp.url + url_suffix, content=content or json.dumps(TOOLS_LIST), headers=all_headers)


def assert_no_credentials_challenge(response: httpx.Response, resource_url: str) -> None:
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert "error" not in params  # WWW-05
    assert params["resource_metadata"] == resource_url + "/.well-known/oauth-protected-resource"  # WWW-03
    assert params["scope"] == " ".join(SCOPES)  # WWW-04


def test_www_01_to_05_no_credentials(mcp, resource_url, sandbox):
    response = raw_post(mcp, [])
    assert_no_credentials_challenge(response, resource_url)
    assert sandbox.counters.introspections == 0


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "DPoP abc", "Token abc"])
def test_f14_other_scheme_is_no_credentials(mcp, resource_url, sandbox, value):
    assert_no_credentials_challenge(raw_post(mcp, [("Authorization", value)]), resource_url)
    assert sandbox.counters.introspections == 0


@pytest.mark.parametrize("value", [b"Bearer", b"Bearer ", b"bearer    "])
def test_hdr_04_empty_token_is_invalid_request(mcp, sandbox, value):
    status, headers, _ = raw_request(
        mcp.url, [*RAW_MCP_HEADERS, (b"Authorization", value)], json.dumps(TOOLS_LIST).encode()
    )
    assert status == 400
    assert challenge_params(headers["www-authenticate"])["error"] == "invalid_request"
    assert sandbox.counters.introspections == 0


def test_hdr_05_two_authorization_headers(mcp, mint, sandbox):
    token = mint()
    for headers in (
        [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer other")],
        [("Authorization", "Bearer other"), ("Authorization", f"Bearer {token}")],
    ):
        response = raw_post(mcp, headers)
        assert response.status_code == 400
        assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_request"
    assert sandbox.counters.introspections == 0


@pytest.mark.parametrize(
    "value",
    [
        "Bearer abc junk",  # F-16: never keep the first word
        "Bearer ab=cd",
        "Bearer a,b",
        "Bearer a%2Fb",
        'Bearer a"b',
        "Bearer\tabc",
        "Bearer abc, Bearer def",
        "Bearer " + "A" * 5000,  # HDR-09: over 4 KB
    ],
)
def test_hdr_03_f15_bad_syntax_is_invalid_token(mcp, resource_url, sandbox, value):
    response = raw_post(mcp, [("Authorization", value)])
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"].startswith(resource_url)
    assert sandbox.counters.introspections == 0  # the AS is never called for a malformed header
    token_part = value.split(" ", 1)[-1]
    assert token_part not in response.text and token_part not in response.headers["www-authenticate"]  # WWW-08


@pytest.mark.parametrize("value", ["Bearer café".encode(), b"Bearer\tabc", b"Bearer abc\x01"])
def test_hdr_03_raw_bytes_are_invalid_token(mcp, sandbox, value):
    status, headers, body = raw_request(
        mcp.url, [*RAW_MCP_HEADERS, (b"Authorization", value)], json.dumps(TOOLS_LIST).encode()
    )
    assert status in (400, 401)
    if status == 401:
        assert challenge_params(headers["www-authenticate"])["error"] == "invalid_token"
    assert b"abc" not in body
    assert sandbox.counters.introspections == 0


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_hdr_01_02_scheme_case_insensitive(mcp, mint, scheme):
    response = raw_post(mcp, [("Authorization", f"{scheme} {mint()}")])
    assert response.status_code == 200, response.text


def test_hdr_03_several_spaces_allowed(mcp, mint):
    assert raw_post(mcp, [("Authorization", f"Bearer   {mint()}")]).status_code == 200


def test_hdr_06_07_08_token_outside_the_header_is_ignored(mcp, mint, resource_url, sandbox):
    token = mint()
    assert_no_credentials_challenge(raw_post(mcp, [], url_suffix=f"?access_token={token}"), resource_url)
    response = mcp.http.post(
        mcp.url,
        content=f"access_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": MCP_HEADERS["Accept"]},
    )
    assert_no_credentials_challenge(response, resource_url)
    assert_no_credentials_challenge(raw_post(mcp, [("Cookie", f"access_token={token}")]), resource_url)
    assert sandbox.counters.introspections == 0


@pytest.mark.parametrize("era", [None, *ERAS])
def test_hdr_10_every_method_is_authenticated(mcp, resource_url, era):
    for method in ("GET", "DELETE", "POST"):
        headers = {"Accept": "text/event-stream", "Mcp-Session-Id": "abc", **era_headers(era)}
        response = mcp.http.request(method, mcp.url, headers=headers)
        assert_no_credentials_challenge(response, resource_url)


def test_stateless_get_is_405_not_a_stream_held_open(mcp, mint):
    response = mcp.http.get(mcp.url, headers={"Accept": "text/event-stream", "Authorization": f"Bearer {mint()}"})
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize("era", [None, *ERAS])
def test_deeply_nested_body_is_a_plain_400_not_a_500(mcp, mint, era):
    """The gate answers in HTTP only: a body no JSON parser should read is refused before any framework."""
    body = '{"a":' * 50_000 + "1" + "}" * 50_000
    headers = {**MCP_HEADERS, **era_headers(era), "Authorization": f"Bearer {mint()}"}
    response = mcp.http.post(mcp.url, content=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "the request body is JSON nested too deeply",
    }  # no JSON-RPC envelope: that is the framework's to write


def test_hdr_11_invalid_json_without_token_is_401(mcp, resource_url):
    assert_no_credentials_challenge(raw_post(mcp, [], content="{not json"), resource_url)


def test_hdr_12_foreign_origin_refused(mcp, mint):
    assert raw_post(mcp, [("Authorization", f"Bearer {mint()}"), ("Origin", "https://evil.example")]).status_code == 403
    allowed = raw_post(mcp, [("Authorization", f"Bearer {mint()}"), ("Origin", "http://localhost:6274")])
    assert allowed.status_code == 200
    # An Origin no URL parser can split (an unbalanced IPv6 bracket) is refused, never a 500.
    for malformed in ("http://[", "http://[::1", "https://evil]example"):
        assert raw_post(mcp, [("Authorization", f"Bearer {mint()}"), ("Origin", malformed)]).status_code == 403


def test_hdr_13_preflight_needs_no_auth(mcp):
    response = mcp.http.options(
        mcp.url,
        headers={
            "Origin": "http://localhost:6274",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-method, mcp-name",
        },
    )
    assert response.status_code == 200
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].lower().split(",")}
    # A browser-based client of either era may send these (2026-07-28 adds the routing headers).
    assert {"authorization", "content-type", "mcp-protocol-version", "mcp-method", "mcp-name"} <= allowed


def test_err_01_www_06_inactive_token(mcp, resource_url, sandbox, mint):
    token = mint()
    sandbox.revoke(token)
    response = mcp.post(TOOLS_LIST, "unknown-token-123")
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"] == resource_url + "/.well-known/oauth-protected-resource"
    assert mcp.post(TOOLS_LIST, token).status_code == 401


def refused(mcp, token: str) -> None:
    response = mcp.post(TOOLS_LIST, token)
    assert response.status_code == 401, response.text
    assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"


def test_int_06_expired_and_not_yet_valid(mcp, mint):
    import time

    refused(mcp, mint(overrides={"exp": int(time.time()) - 120}))
    refused(mcp, mint(overrides={"nbf": int(time.time()) + 120}))


def test_f10_no_expiry_refused(mcp, mint):
    refused(mcp, mint(overrides={"exp": None}))


def test_aud_01_audience_must_be_this_server(mcp, mint, resource_url):
    refused(mcp, mint(audience="https://other.example/mcp"))
    refused(mcp, mint(overrides={"aud": None}))
    refused(mcp, mint(audience=resource_url + "/mcp"))  # no prefix matching, either way
    refused(mcp, mint(audience=resource_url.rsplit(":", 1)[0]))
    refused(mcp, mint(audience="http://[" + resource_url))  # unparseable: another resource, never a 500
    assert mcp.post(TOOLS_LIST, mint(overrides={"aud": ["https://other.example", resource_url]})).status_code == 200


def test_aud_02_scheme_case_insensitive_path_exact(mcp, mint, resource_url, sandbox, server_factory, connect):
    assert mcp.post(TOOLS_LIST, mint(audience=resource_url.replace("http://", "HTTP://"))).status_code == 200
    # An empty path is "/" (RFC 3986 §6.2.3): TypeScript clients (MCP Inspector, mcp-remote) send
    # resource=http://host:port/ for R=http://host:port, and Whatalo echoes it as aud.
    assert mcp.post(TOOLS_LIST, mint(audience=resource_url + "/")).status_code == 200
    with server_factory(path="/mcp") as running:
        with_path = connect(running)
        assert with_path.post(TOOLS_LIST, mint(audience=running.resource_url)).status_code == 200
        refused(with_path, mint(audience=running.resource_url + "/"))  # another resource


def test_int_08_foreign_issuer(mcp, mint):
    refused(mcp, mint(overrides={"iss": "https://evil.example"}))


def test_int_09_not_an_access_token(mcp, mint):
    refused(mcp, mint(overrides={"token_type": "refresh_token"}))


@pytest.mark.parametrize("store", [None, "", [], {}, 42])
def test_int_10_store_id_required(mcp, mint, store):
    refused(mcp, mint(overrides={"whatalo_store_id": store}))  # None removes the member


def test_int_05_active_false_ignores_other_claims(mcp, mint, sandbox):
    token = mint()
    sandbox.tokens[token].overrides = {"active": False}
    refused(mcp, token)


def test_initialize_ping_and_list_need_only_a_valid_token(mcp, mint):
    token = mint(scopes=[])
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    assert "serverInfo" in mcp.rpc(token, "initialize", init)
    assert mcp.rpc(token, "ping") == {}
    assert {tool["name"] for tool in mcp.list_tools(token)} == {tool.name for tool in TOOLS}


@pytest.mark.parametrize("era", [None, *ERAS])
def test_err_02_insufficient_scope_is_403_with_every_needed_scope(server, connect, mint, resource_url, sandbox, era):
    """Era-aware step-up: modern names what the call needs; legacy adds what the token already holds."""
    granted = [scope for scope in SCOPES if scope != TOOL.scope]
    token = mint(scopes=granted)
    before = sandbox.counters.api_calls
    mcp = connect(server, era)
    response = mcp.post(mcp.message("tools/call", {"name": TOOL.name, "arguments": {}}), token)
    assert response.status_code == 403
    params = challenge_params(response.headers["www-authenticate"])
    assert params["error"] == "insufficient_scope"
    expected = [TOOL.scope] if era == MODERN else sorted([*granted, TOOL.scope])
    assert params["scope"] == response.json()["scope"] == " ".join(expected)
    assert params["error_description"] == f"this call needs the scope(s) {TOOL.scope}"
    assert params["resource_metadata"] == resource_url + "/.well-known/oauth-protected-resource"
    assert sandbox.counters.api_calls == before  # refused before the tool ran


def test_err_05_batch_needs_every_scope_in_one_challenge(mcp, mint):
    """The gate reads every call of a body before deciding: one 403 names all they need, never one by one.

    Each tool needs one scope, so a batch is the only body that needs several. Neither era's
    transport runs a batch (JSON-RPC batching left MCP in 2025-06-18): once authorized, it is a 400.
    """
    tools = {tool.scope: tool for tool in TOOLS}
    if len(tools) < 2:
        pytest.skip("this project has a single scope")
    first, second = list(tools.values())[:2]
    batch = [mcp.message("tools/call", {"name": t.name, "arguments": {}}) for t in (first, second)]
    response = mcp.post(batch, mint(scopes=[]))
    assert response.status_code == 403
    assert set(challenge_params(response.headers["www-authenticate"])["scope"].split()) == {first.scope, second.scope}
    assert mcp.post(batch, mint()).status_code == 400  # refused by the framework, not run


def test_int_07_scopes_are_case_sensitive(mcp, mint):
    token = mint(scopes=[TOOL.scope.upper()])
    response = mcp.post(mcp.message("tools/call", {"name": TOOL.name, "arguments": {}}), token)
    assert response.status_code == 403


def test_mt_02_session_id_is_not_a_credential(mcp, mint, resource_url):
    response = raw_post(mcp, [("Mcp-Session-Id", "0123456789abcdef")])
    assert_no_credentials_challenge(response, resource_url)
