"""When Whatalo cannot decide, answer 503 with Retry-After, never 401 (checklist F-01…F-06, ERR-06)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.helpers import RS_CLIENT_ID, STORE_A, TOOLS_LIST, challenge_params
from tests.project import SCOPES, BackgroundServer, SandboxState


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
        (200, '{"active": true, "padding": "' + "x" * 70_000 + '"}'),  # over 64 KiB: read no further
    ],
)
def test_f03_f05_f06_bad_answers_are_503(mcp, mint, sandbox, status, body):
    sandbox.introspection_fault = (status, body)
    assert_unavailable(mcp.post(TOOLS_LIST, mint()))


@pytest.mark.parametrize("status", [302, 307, 308])
def test_f06_redirects_are_not_followed(mcp, mint, sandbox, status):
    """The redirect leads to an endpoint that would vouch for the token: following it would be a 200."""
    followed: list[str] = []

    async def vouch(request: Request) -> JSONResponse:
        followed.append(request.method)
        form = await request.form()
        return JSONResponse(sandbox.introspect(str(form.get("token", ""))))

    lure = Starlette(routes=[Route("/introspect", vouch, methods=["GET", "POST"])])
    with BackgroundServer(lure) as target:
        sandbox.introspection_fault = (status, "", {"Location": target.url + "/introspect"})
        assert_unavailable(mcp.post(TOOLS_LIST, mint()))
    assert followed == []


def set_secret(sandbox: SandboxState, secret: str) -> None:
    sandbox.clients[RS_CLIENT_ID].secret = secret


# name -> (the sandbox's test hook, its failing value, its healthy value)
FAULTS: dict[str, tuple[str, object, object]] = {
    "5xx": ("introspection_fault", (500, "{}"), None),
    "429": ("introspection_fault", (429, "{}"), None),
    "garbage": ("introspection_fault", (200, "<html>"), None),
    "active not a boolean": ("introspection_fault", (200, '{"active": 1}'), None),
    "slow": ("introspection_delay", 3.0, 0.0),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_cache_04_failures_are_not_cached_and_recovery_is_at_once(server_factory, mcp, mint, sandbox, fault):
    hook, failing, healthy = FAULTS[fault]
    with server_factory(introspection_timeout=0.5) as running:
        mcp.url = running.mcp_url
        token = mint(audience=running.resource_url)
        setattr(sandbox, hook, failing)
        assert_unavailable(mcp.post(TOOLS_LIST, token))
        setattr(sandbox, hook, healthy)
        before = sandbox.counters.introspections
        assert mcp.post(TOOLS_LIST, token).status_code == 200  # the same token, at once
        assert sandbox.counters.introspections == before + 1  # asked again: the failure was not cached


def test_f04_rs_credentials_refused_then_restored(mcp, mint, sandbox, sandbox_server):
    token = mint()
    set_secret(sandbox, "rotated-at-whatalo")
    try:
        assert_unavailable(mcp.post(TOOLS_LIST, token))
    finally:
        set_secret(sandbox, sandbox_server.client_secret)
    assert mcp.post(TOOLS_LIST, token).status_code == 200


def test_f01_down_after_discovery_then_back(server_factory, mcp, secrets_seen, own_whatalo):
    """A Whatalo of its own, stopped and restarted on its port while the server runs."""
    with server_factory(whatalo_issuer=own_whatalo.url, whatalo_api_url=own_whatalo.url) as running:
        mcp.url = running.mcp_url
        cached, fresh = (own_whatalo.state.mint(STORE_A, list(SCOPES), running.resource_url) for _ in range(2))
        secrets_seen.update((cached, fresh))
        assert mcp.post(TOOLS_LIST, cached).status_code == 200
        own_whatalo.stop()
        assert_unavailable(mcp.post(TOOLS_LIST, fresh))
        assert mcp.post(TOOLS_LIST, cached).status_code == 200  # an answer cached before the outage still serves
        # Whatalo is every replica's: its outage after discovery leaves them in the load balancer.
        assert mcp.http.get(running.url + "/readyz").status_code == 200
        own_whatalo.restart()
        assert mcp.post(TOOLS_LIST, fresh).status_code == 200  # back at once


def test_f04_rs_credentials_refused_is_503_not_401(server_factory, mcp, mint, sandbox):
    with server_factory(whatalo_client_secret="wrong-secret") as running:
        mcp.url = running.mcp_url
        assert_unavailable(mcp.post(TOOLS_LIST, mint(audience=running.resource_url)))


def test_f01_authorization_server_unreachable(server_factory, mcp, mint):
    """Never discovered: the replica cannot decide on any token, so it is not ready."""
    with server_factory(whatalo_issuer="http://127.0.0.1:9") as running:
        mcp.url = running.mcp_url
        assert_unavailable(mcp.post(TOOLS_LIST, mint(audience=running.resource_url)))
        ready = mcp.http.get(running.url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not ready"


def test_int_12_issuer_mismatch_is_not_ready_and_503(server_factory, mcp, mint, sandbox):
    with server_factory(whatalo_issuer=sandbox.issuer.replace("127.0.0.1", "localhost")) as running:
        mcp.url = running.mcp_url
        ready = mcp.http.get(running.url + "/readyz")
        assert ready.status_code == 503
        assert "issuer mismatch" in ready.json()["checks"]["authorization_server"]
        assert_unavailable(mcp.post(TOOLS_LIST, mint(audience=running.resource_url)))


def test_client_secret_post_also_works(server_factory, mcp, mint):
    with server_factory(whatalo_client_auth_method="client_secret_post") as running:
        mcp.url = running.mcp_url
        assert mcp.post(TOOLS_LIST, mint(audience=running.resource_url)).status_code == 200


def test_err_06_inactive_still_401_not_503(mcp, sandbox):
    response = mcp.post(TOOLS_LIST, "never-issued")
    assert response.status_code == 401
    assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"
