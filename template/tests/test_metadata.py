"""Protected resource metadata (RFC 9728) and health endpoints (checklist PRM-*)."""

from __future__ import annotations

from tests.project import PROJECT_NAME, SCOPES

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def test_prm_01_to_10_document(mcp, server, resource_url, sandbox):
    response = mcp.http.get(server.url + WELL_KNOWN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "resource": resource_url,
        "authorization_servers": [sandbox.issuer],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": PROJECT_NAME,
    }


def test_prm_12_13_15_cacheable_public_cors(mcp, server):
    response = mcp.http.get(
        server.url + WELL_KNOWN, headers={"Authorization": "Bearer garbage", "Origin": "https://x.example"}
    )
    assert response.status_code == 200
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["access-control-allow-origin"] in ("*", "https://x.example")


def test_prm_06_07_other_paths_and_methods(mcp, server):
    assert mcp.http.get(server.url + WELL_KNOWN + "/mcp").status_code == 404
    assert mcp.http.get(server.url + WELL_KNOWN + "/other").status_code == 404
    assert mcp.http.post(server.url + WELL_KNOWN).status_code == 405


def test_prm_04_05_path_resource(server_factory, mcp):
    with server_factory(path="/mcp") as running:
        document = mcp.http.get(running.url + WELL_KNOWN + "/mcp")
        assert document.status_code == 200
        assert document.json()["resource"] == running.resource_url
        assert mcp.http.get(running.url + WELL_KNOWN).status_code == 404
        unauthenticated = mcp.http.post(running.mcp_url, json={})
        assert f'resource_metadata="{running.url}{WELL_KNOWN}/mcp"' in unauthenticated.headers["www-authenticate"]


def test_health_and_readiness(mcp, server):
    assert mcp.http.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = mcp.http.get(server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
