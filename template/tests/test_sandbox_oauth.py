"""The sandbox's authorization server behaves like Whatalo's: DCR, authorize + consent, token, revocation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pytest

from tests.helpers import REDIRECT_URI, RS_CLIENT_ID, STORE_A, STORE_B, TLS_CONTEXT, RunningSandbox, pkce
from tests.merchant import ConsentForm, Merchant

SCOPE = "read:store read:products"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False, verify=TLS_CONTEXT) as client:
        yield client


def register(http: httpx.Client, issuer: str, **metadata: Any) -> dict[str, Any]:
    body = {
        "client_name": "Test host",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
    }
    body.update(metadata)
    response = http.post(f"{issuer}/oauth/register", json=body)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def authorize_url(issuer: str, client: dict[str, Any], challenge: str, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query.update(params)
    return f"{issuer}/oauth/authorize?{urlencode(query)}"


def redeem(
    http: httpx.Client, issuer: str, client: dict[str, Any], code: str, verifier: str, **extra: str
) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    form.update(extra)
    return http.post(f"{issuer}/oauth/token", data=form, auth=(client["client_id"], client["client_secret"]))


def tokens_for(
    http: httpx.Client, issuer: str, client: dict[str, Any], store: str = STORE_B, **params: str
) -> dict[str, Any]:
    verifier, challenge = pkce()
    back = Merchant(store).authorize(authorize_url(issuer, client, challenge, **params))
    response = redeem(http, issuer, client, back["code"], verifier)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def introspect(http: httpx.Client, sandbox_server: RunningSandbox, token: str) -> dict[str, Any]:
    """What the sandbox's introspection endpoint tells the MCP server (its confidential client) about ``token``."""
    response = http.post(
        f"{sandbox_server.state.issuer}/oauth/introspect",
        data={"token": token},
        auth=(RS_CLIENT_ID, sandbox_server.client_secret),
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    return str(body["error"])


def test_discovery_lists_every_endpoint_and_s256_only(http, sandbox):
    document = http.get(f"{sandbox.issuer}/.well-known/oauth-authorization-server").json()
    assert document["issuer"] == sandbox.issuer
    for name in ("authorization", "token", "registration", "introspection", "revocation"):
        assert document[f"{name}_endpoint"].startswith(sandbox.issuer + "/oauth/")
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "refresh_token" in document["grant_types_supported"]


def test_registration_answers_credentials_and_validates(http, sandbox):
    client = register(http, sandbox.issuer, scope="read:store", software_id="acme")
    assert client["client_secret"] and client["client_secret_expires_at"] == 0
    assert client["token_endpoint_auth_method"] == "client_secret_basic"
    assert client["redirect_uris"] == [REDIRECT_URI] and client["software_id"] == "acme"
    public = register(http, sandbox.issuer, token_endpoint_auth_method="none")
    assert "client_secret" not in public

    def refused(body: Any) -> httpx.Response:
        return http.post(f"{sandbox.issuer}/oauth/register", json=body)

    assert error_of(refused({"client_name": "x"}), 400) == "invalid_request"
    assert refused({"client_name": "x"}).json()["error_description"] == "redirect_uris is required"
    bad_uri = {"client_name": "x", "redirect_uris": ["http://evil.example/cb"]}
    assert error_of(refused(bad_uri), 400) == "invalid_redirect_uri"
    unknown_scope = refused({"client_name": "x", "redirect_uris": [REDIRECT_URI], "scope": "admin"})
    assert error_of(unknown_scope, 400) == "invalid_request" and "admin" in unknown_scope.json()["error_description"]
    assert error_of(refused([1, 2]), 400) == "invalid_request"


def test_registration_is_limited_per_address_and_hour(http, sandbox):
    for _ in range(sandbox.registrations_per_hour):
        http.post(f"{sandbox.issuer}/oauth/register", json={})
    response = http.post(f"{sandbox.issuer}/oauth/register", json={"client_name": "x", "redirect_uris": [REDIRECT_URI]})
    assert error_of(response, 429) == "rate_limit_exceeded"
    assert int(response.headers["retry-after"]) > 0


def test_authorize_errors_stay_at_the_browser_until_the_client_checks_out(http, sandbox):
    client = register(http, sandbox.issuer)
    _, challenge = pkce()
    unknown = http.get(authorize_url(sandbox.issuer, {"client_id": "nobody"}, challenge))
    assert unknown.status_code == 400 and "location" not in unknown.headers
    elsewhere = http.get(authorize_url(sandbox.issuer, client, challenge, redirect_uri=REDIRECT_URI + "/x"))
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
    assert "invalid_redirect_uri" in elsewhere.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge": "!" * 43}, "invalid_request"),
        ({"scope": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read:store admin:everything"}, "invalid_scope"),
        ({"resource": "http://mcp.example.com"}, "invalid_target"),
    ],
)
def test_authorize_errors_go_back_to_the_client_with_state(http, sandbox, params, error):
    client = register(http, sandbox.issuer)
    _, challenge = pkce()
    back = Merchant(STORE_A).authorize(authorize_url(sandbox.issuer, client, challenge, **params))
    assert back["error"] == error and back["state"] == "st-123"
    assert "code" not in back


def test_consent_offers_the_stores_and_the_asked_permissions_and_can_be_declined(http, sandbox):
    client = register(http, sandbox.issuer)
    _, challenge = pkce()
    merchant = Merchant(STORE_A, decision="decline")
    back = merchant.authorize(authorize_url(sandbox.issuer, client, challenge))
    assert back == {"error": "access_denied", "error_description": "The merchant declined", "state": "st-123"}
    assert merchant.pages[0].stores == [STORE_A, STORE_B]
    assert merchant.pages[0].scopes == SCOPE.split()


def test_the_code_gives_tokens_bound_to_the_chosen_store_and_resource(http, sandbox, sandbox_server):
    client = register(http, sandbox.issuer)
    answer = tokens_for(http, sandbox.issuer, client, resource="http://localhost:8000")
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600 and answer["refresh_token"]
    claims = introspect(http, sandbox_server, answer["access_token"])
    assert claims["active"] is True and claims["whatalo_store_id"] == STORE_B
    assert claims["aud"] == "http://localhost:8000" and claims["client_id"] == client["client_id"]
    assert claims["scope"] == " ".join(sorted(SCOPE.split()))
    without = tokens_for(http, sandbox.issuer, client)
    assert introspect(http, sandbox_server, without["access_token"])["aud"] == sandbox.api_url


def test_the_merchant_may_grant_fewer_permissions_than_asked(http, sandbox, sandbox_server):
    client = register(http, sandbox.issuer)
    verifier, challenge = pkce()
    back = Merchant(STORE_A, scopes={"read:store"}).authorize(authorize_url(sandbox.issuer, client, challenge))
    answer = redeem(http, sandbox.issuer, client, back["code"], verifier).json()
    assert answer["scope"] == "read:store"
    assert introspect(http, sandbox_server, answer["access_token"])["scope"] == "read:store"


def test_a_code_is_single_use_and_a_replay_revokes_what_it_gave(http, sandbox, sandbox_server):
    client = register(http, sandbox.issuer)
    verifier, challenge = pkce()
    code = Merchant(STORE_A).authorize(authorize_url(sandbox.issuer, client, challenge))["code"]
    first = redeem(http, sandbox.issuer, client, code, verifier).json()
    assert error_of(redeem(http, sandbox.issuer, client, code, verifier), 400) == "invalid_grant"
    assert introspect(http, sandbox_server, first["access_token"]) == {"active": False}
    refreshed = http.post(
        f"{sandbox.issuer}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert error_of(refreshed, 400) == "invalid_grant"


@pytest.mark.parametrize("fault", ["verifier", "redirect_uri", "secret", "resource"])
def test_the_code_needs_the_verifier_the_same_redirect_and_the_client(http, sandbox, fault):
    client = register(http, sandbox.issuer)
    verifier, challenge = pkce()
    url = authorize_url(sandbox.issuer, client, challenge, resource="http://localhost:8000")
    code = Merchant(STORE_A).authorize(url)["code"]
    if fault == "verifier":
        another_verifier, _ = pkce()
        assert error_of(redeem(http, sandbox.issuer, client, code, another_verifier), 400) == "invalid_grant"
    elif fault == "redirect_uri":
        assert error_of(redeem(http, sandbox.issuer, client, code, verifier, redirect_uri=REDIRECT_URI + "x"), 400) == (
            "invalid_grant"
        )
    elif fault == "secret":
        assert error_of(redeem(http, sandbox.issuer, {**client, "client_secret": "wrong"}, code, verifier), 401) == (
            "invalid_client"
        )
    else:
        assert error_of(redeem(http, sandbox.issuer, client, code, verifier, resource="http://localhost:9"), 400) == (
            "invalid_target"
        )
    # The code was not spent by the failure.
    assert redeem(http, sandbox.issuer, client, code, verifier).status_code == 200


def test_public_clients_use_pkce_without_a_secret(http, sandbox):
    client = register(http, sandbox.issuer, token_endpoint_auth_method="none")
    verifier, challenge = pkce()
    code = Merchant(STORE_A).authorize(authorize_url(sandbox.issuer, client, challenge))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client["client_id"],
    }
    answer = http.post(f"{sandbox.issuer}/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
    exchange = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": answer.json()["access_token"],
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "client_id": client["client_id"],
    }
    assert error_of(http.post(f"{sandbox.issuer}/oauth/token", data=exchange), 401) == "unauthorized_client"


def refresh(http: httpx.Client, issuer: str, client: dict[str, Any], token: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return http.post(f"{issuer}/oauth/token", data=form, auth=(client["client_id"], client["client_secret"]))


def test_refresh_tokens_rotate_and_a_reuse_revokes_the_family(http, sandbox, sandbox_server):
    client = register(http, sandbox.issuer)
    first = tokens_for(http, sandbox.issuer, client)
    second = refresh(http, sandbox.issuer, client, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert introspect(http, sandbox_server, second["access_token"])["whatalo_store_id"] == STORE_B
    narrowed = refresh(http, sandbox.issuer, client, second["refresh_token"], scope="read:store").json()
    assert narrowed["scope"] == "read:store"
    # The refresh token keeps what the merchant granted (RFC 6749 §6): the next refresh may ask for all
    # of it again, never for more.
    wider = refresh(http, sandbox.issuer, client, narrowed["refresh_token"], scope="read:store write:products")
    assert error_of(wider, 400) == "invalid_scope"
    again = refresh(http, sandbox.issuer, client, narrowed["refresh_token"], scope=SCOPE).json()
    assert again["scope"] == " ".join(sorted(SCOPE.split()))
    other = register(http, sandbox.issuer)
    assert error_of(refresh(http, sandbox.issuer, other, again["refresh_token"]), 400) == "invalid_grant"

    assert error_of(refresh(http, sandbox.issuer, client, first["refresh_token"]), 400) == "invalid_grant"
    for token in (second["access_token"], narrowed["access_token"], again["access_token"]):
        assert introspect(http, sandbox_server, token) == {"active": False}
    assert error_of(refresh(http, sandbox.issuer, client, again["refresh_token"]), 400) == "invalid_grant"


def revoke(http: httpx.Client, issuer: str, client: dict[str, Any], token: str) -> httpx.Response:
    return http.post(
        f"{issuer}/oauth/revoke", data={"token": token}, auth=(client["client_id"], client["client_secret"])
    )


def test_revocation_is_always_200_and_follows_families(http, sandbox, sandbox_server):
    client = register(http, sandbox.issuer)
    other = register(http, sandbox.issuer)
    tokens = tokens_for(http, sandbox.issuer, client)
    assert revoke(http, sandbox.issuer, client, "no-such-token").status_code == 200
    assert revoke(http, sandbox.issuer, other, tokens["access_token"]).status_code == 200  # not its token: no effect
    assert introspect(http, sandbox_server, tokens["access_token"])["active"] is True

    assert revoke(http, sandbox.issuer, client, tokens["access_token"]).status_code == 200
    assert introspect(http, sandbox_server, tokens["access_token"]) == {"active": False}
    renewed = refresh(http, sandbox.issuer, client, tokens["refresh_token"]).json()  # the refresh token lives on
    assert introspect(http, sandbox_server, renewed["access_token"])["active"] is True

    assert revoke(http, sandbox.issuer, client, renewed["refresh_token"]).status_code == 200
    assert introspect(http, sandbox_server, renewed["access_token"]) == {"active": False}
    assert revoke(http, sandbox.issuer, {**client, "client_secret": "wrong"}, "x").status_code == 401


def test_introspection_needs_a_confidential_client(http, sandbox):
    client = register(http, sandbox.issuer, token_endpoint_auth_method="none")
    form = {"token": "whatever", "client_id": client["client_id"]}
    assert error_of(http.post(f"{sandbox.issuer}/oauth/introspect", data=form), 401) == "invalid_client"
    assert error_of(http.post(f"{sandbox.issuer}/oauth/introspect", data={"token": "x"}), 401) == "invalid_client"


def test_state_is_required_and_parameters_come_once(http, sandbox):
    client = register(http, sandbox.issuer)
    _, challenge = pkce()
    back = Merchant(STORE_A).authorize(authorize_url(sandbox.issuer, client, challenge, state=""))
    assert back["error"] == "invalid_request" and "state" in back["error_description"]
    twice = authorize_url(sandbox.issuer, client, challenge) + "&scope=write:products"
    back = Merchant(STORE_A).authorize(twice)
    assert back["error"] == "invalid_request" and "scope" in back["error_description"]
    form = {"grant_type": "refresh_token", "refresh_token": "x"}
    repeated = http.post(
        f"{sandbox.issuer}/oauth/token",
        content=urlencode([*form.items(), ("grant_type", "authorization_code")]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert error_of(repeated, 400) == "invalid_request"


def test_credentials_come_one_way_and_name_one_client(http, sandbox):
    client = register(http, sandbox.issuer)
    token_url = f"{sandbox.issuer}/oauth/token"
    both = {"grant_type": "refresh_token", "refresh_token": "x", "client_secret": client["client_secret"]}
    assert error_of(http.post(token_url, data=both, auth=(client["client_id"], client["client_secret"])), 400) == (
        "invalid_request"
    )
    other = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "someone-else"}
    assert error_of(http.post(token_url, data=other, auth=(client["client_id"], client["client_secret"])), 400) == (
        "invalid_request"
    )


def test_a_consent_answers_once_and_grants_only_what_was_asked(http, sandbox, sandbox_server):
    client = register(http, sandbox.issuer, client_name='<script>alert("x")</script> Shop')
    verifier, challenge = pkce()
    page = http.get(authorize_url(sandbox.issuer, client, challenge))
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text  # the client's name, escaped
    assert "default-src 'none'" in page.headers["content-security-policy"]
    consent = ConsentForm()
    consent.feed(page.text)
    answer = {**consent.hidden, "store": STORE_A, "decision": "approve", "scope": ["read:store", "write:orders"]}
    first = http.post(f"{sandbox.issuer}/oauth/authorize", data=answer)
    assert first.status_code == 302
    code = parse_qs(urlsplit(first.headers["location"]).query)["code"][0]
    tokens = redeem(http, sandbox.issuer, client, code, verifier).json()
    assert tokens["scope"] == "read:store"  # write:orders was not asked for: not granted
    again = http.post(f"{sandbox.issuer}/oauth/authorize", data=answer)
    assert again.status_code == 400 and "location" not in again.headers  # a consent is answered once
