"""Contract §5 last row and checklist F-01…F-06, ERR-06: when Whatalo cannot decide, answer 503."""

from __future__ import annotations

import pytest

from tests.helpers import challenge_params

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert "www-authenticate" not in response.headers  # never a 401-style challenge


@pytest.mark.parametrize(
    "status, body",
    [
        (500, '{"error":"server_error"}'),  # F-03
        (503, '{"error":"temporarily_unavailable"}'),
        (429, '{"error":"rate_limit_exceeded"}'),
        (200, "<html>oops</html>"),  # F-05
        (200, "[]"),
        (200, "{}"),
        (200, '{"active": "true"}'),  # INT-04: a string is not a boolean
        (307, ""),  # F-06: redirects are not followed
    ],
)
def test_f03_f05_f06_bad_answers_are_503(mcp, mint, sandbox, status, body):
    sandbox.introspection_fault = (status, body)
    assert_unavailable(mcp.post(LIST, mint()))


def test_cache_04_failures_are_not_cached(mcp, mint, sandbox):
    token = mint()
    sandbox.introspection_fault = (500, "{}")
    assert_unavailable(mcp.post(LIST, token))
    sandbox.introspection_fault = None
    assert mcp.post(LIST, token).status_code == 200  # recovers at once


def test_f02_slow_authorization_server(server_factory, mcp, mint, sandbox):
    sandbox.introspection_delay = 3
    with server_factory(introspection_timeout=0.5) as (settings, server):
        mcp.url = server.url + "/mcp"
        token = mint(audience=settings.mcp_resource_url)
        assert_unavailable(mcp.post(LIST, token))


def test_f04_rs_credentials_refused_is_503_not_401(server_factory, mcp, mint, sandbox):
    with server_factory(whatalo_client_secret="wrong-secret") as (settings, server):
        mcp.url = server.url + "/mcp"
        assert_unavailable(mcp.post(LIST, mint(audience=settings.mcp_resource_url)))


def test_f01_authorization_server_unreachable(server_factory, mcp, mint):
    with server_factory(whatalo_issuer="http://127.0.0.1:9") as (settings, server):
        mcp.url = server.url + "/mcp"
        assert_unavailable(mcp.post(LIST, mint(audience=settings.mcp_resource_url)))
        ready = mcp.http.get(server.url + "/readyz")
        assert ready.status_code == 503


def test_int_12_issuer_mismatch_is_not_ready_and_503(server_factory, mcp, mint, sandbox):
    with server_factory(whatalo_issuer=sandbox.issuer.replace("127.0.0.1", "localhost")) as (settings, server):
        mcp.url = server.url + "/mcp"
        ready = mcp.http.get(server.url + "/readyz")
        assert ready.status_code == 503
        assert "issuer mismatch" in ready.json()["checks"]["authorization_server"]
        assert_unavailable(mcp.post(LIST, mint(audience=settings.mcp_resource_url)))


def test_client_secret_post_also_works(server_factory, mcp, mint):
    with server_factory(whatalo_client_auth_method="client_secret_post") as (settings, server):
        mcp.url = server.url + "/mcp"
        assert mcp.post(LIST, mint(audience=settings.mcp_resource_url)).status_code == 200


def test_err_06_inactive_still_401_not_503(mcp, sandbox):
    response = mcp.post(LIST, "never-issued")
    assert response.status_code == 401
    assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"
