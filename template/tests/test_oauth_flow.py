"""End to end: the official MCP client (``OAuthClientProvider``) signs in at the sandbox like a real host.

No token to start with: 401, protected resource metadata, AS discovery, DCR,
authorization code + PKCE through the consent page (answered over HTTP by
``Merchant``), then tool calls on the store the merchant picked; a step-up
when a call needs a scope the merchant did not grant; and a revocation that
the server honours within the introspection cache's TTL. Each runs in both protocol eras: the
client opening with ``initialize`` (2025-11-25) and the stateless client (2026-07-28).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.helpers import (
    ERAS,
    MODERN,
    REDIRECT_URI,
    STORE_B,
    TLS_CONTEXT,
    Exchange,
    challenge_params,
    client_mode,
    minimal_arguments,
    pick_tool,
    sdk_client,
)
from tests.merchant import Merchant
from tests.project import SCOPES, TOOLS

TTL = 1  # seconds: the revocation budget this test holds the server to
Seen = list[tuple[str, str, int]]


class MemoryStorage:
    """The host's token store (``TokenStorage``): one registration, one token set."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def host(
    url: str,
    era: str,
    merchant: Merchant,
    storage: MemoryStorage,
    scenario: Callable[[Client], Awaitable[None]],
    auth_method: str = "client_secret_basic",
) -> list[Exchange]:
    """Connect the official client in ``era`` to ``url`` with OAuth, the merchant answering consent, and run
    ``scenario``; every HTTP exchange the client made, in order."""
    answers: list[dict[str, str]] = []

    async def redirect_handler(authorization_url: str) -> None:
        answers.append(await anyio.to_thread.run_sync(merchant.authorize, authorization_url))

    async def callback_handler() -> AuthorizationCodeResult:
        answer = answers.pop()
        return AuthorizationCodeResult(code=answer["code"], state=answer["state"])

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Test host",
            redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]
            token_endpoint_auth_method=auth_method,  # type: ignore[arg-type]
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )

    exchanges: list[Exchange] = []

    async def run() -> None:
        async with sdk_client(url, client_mode(era), provider, exchanges) as client:
            assert client.protocol_version == era
            await scenario(client)

    anyio.run(run)
    return exchanges


def steps(exchanges: list[Exchange]) -> Seen:
    return [(e.method, e.path, e.status) for e in exchanges]


def in_order(seen: Seen, expected: list[tuple[str, str, int]]) -> bool:
    remaining = iter(seen)
    return all(step in remaining for step in expected)


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("auth_method", ["client_secret_basic", "none"])  # confidential, or public as Inspector
def test_a_host_signs_in_through_consent_and_works_on_the_store_picked(server, sandbox, auth_method, era):
    merchant, storage = Merchant(STORE_B), MemoryStorage()
    tool = pick_tool(list(TOOLS))
    arguments = minimal_arguments(tool, sandbox.stores[STORE_B])  # the store the merchant will pick
    results: dict[str, Any] = {}

    async def scenario(client: Client) -> None:
        results["listed"] = {t.name for t in (await client.list_tools()).tools}
        results["call"] = await client.call_tool(tool.name, arguments)

    seen = steps(host(server.mcp_url, era, merchant, storage, scenario, auth_method))

    assert storage.client is not None and storage.client.token_endpoint_auth_method == auth_method
    assert in_order(
        seen,
        [
            ("POST", "/mcp", 401),
            ("GET", "/.well-known/oauth-protected-resource", 200),
            ("GET", "/.well-known/oauth-authorization-server", 200),
            ("POST", "/oauth/register", 201),
            ("POST", "/oauth/token", 200),
            ("POST", "/mcp", 200),
        ],
    ), seen
    assert len(merchant.pages) == 1
    assert set(merchant.pages[0].scopes) == set(SCOPES)  # what the 401 challenge asked for
    assert results["listed"] == {t.name for t in TOOLS}

    assert storage.tokens is not None and storage.tokens.refresh_token
    claims = sandbox.introspect(storage.tokens.access_token)
    assert claims["whatalo_store_id"] == STORE_B and claims["aud"] == server.resource_url
    assert storage.tokens.access_token not in sandbox.api_bearer_tokens  # never passed through
    assert not results["call"].is_error, results["call"].content
    assert sandbox.api_bearer_tokens
    assert {sandbox.tokens[t].store_id for t in sandbox.api_bearer_tokens} == {STORE_B}
    if tool.name == "get_store":  # the data itself is the picked store's
        assert results["call"].structured_content["data"]["id"] == STORE_B


@pytest.mark.skipif(len(SCOPES) < 2, reason="a step-up needs a second scope; this project has one")
@pytest.mark.parametrize("era", ERAS)
def test_a_call_beyond_the_grant_steps_up_and_succeeds(server, sandbox, era):
    first = pick_tool(list(TOOLS))
    second = pick_tool([t for t in TOOLS if t.scope != first.scope])
    merchant, storage = Merchant(STORE_B, scopes={first.scope}), MemoryStorage()
    results: dict[str, Any] = {}

    async def scenario(client: Client) -> None:
        results["first"] = await client.call_tool(first.name, minimal_arguments(first, sandbox.stores[STORE_B]))
        granted = storage.tokens.scope if storage.tokens else None
        results["granted"] = set((granted or "").split())
        merchant.scopes = None  # this time the merchant approves everything asked
        merchant.store = None  # and keeps the store the consent page pre-selects
        results["second"] = await client.call_tool(second.name, minimal_arguments(second, sandbox.stores[STORE_B]))
        results["store"] = sandbox.introspect(storage.tokens.access_token if storage.tokens else "")

    exchanges = host(server.mcp_url, era, merchant, storage, scenario)

    assert results["granted"] == {first.scope}
    refused = [e for e in exchanges if e.path == "/mcp" and e.status == 403]
    assert len(refused) == 1, steps(exchanges)  # one challenge, one step-up
    challenge = challenge_params(refused[0].headers["www-authenticate"])
    assert challenge["error"] == "insufficient_scope"
    # SEP-2350: a modern-era challenge names what the call needs, and the client adds it to what it holds;
    # a legacy-era challenge also names what the token holds, for clients that replace their grant with it.
    needed = {second.scope} if era == MODERN else {first.scope, second.scope}
    assert challenge["scope"] == " ".join(sorted(needed))
    assert len(merchant.pages) == 2
    # Either way this client asks for everything it held and everything the call needs.
    assert {first.scope, second.scope} <= set(merchant.pages[1].scopes)
    assert merchant.pages[0].checked_store is None  # a first sign-in: the merchant must pick a store
    assert merchant.pages[1].checked_store == STORE_B  # the step-up widens the same store's grant
    assert results["store"]["whatalo_store_id"] == STORE_B
    assert storage.tokens is not None
    assert {first.scope, second.scope} <= set(sandbox.introspect(storage.tokens.access_token)["scope"].split())
    assert not results["first"].is_error, results["first"].content
    assert not results["second"].is_error, results["second"].content  # past authorization, and run


@pytest.mark.parametrize("era", ERAS)
def test_a_revoked_token_is_refused_within_the_cache_ttl(server_factory, connect, sandbox, era):
    with server_factory(introspection_cache_ttl=TTL) as running:
        storage = MemoryStorage()

        async def scenario(client: Client) -> None:
            await client.list_tools()

        host(running.mcp_url, era, Merchant(STORE_B), storage, scenario)
        assert storage.tokens is not None and storage.client is not None and storage.client.client_secret
        token = storage.tokens.access_token
        mcp = connect(running, era)
        list_tools = mcp.message("tools/list")
        assert mcp.post(list_tools, token).status_code == 200  # admitted, and now cached
        revoked = httpx.post(
            f"{sandbox.issuer}/oauth/revoke",
            data={"token": token, "token_type_hint": "access_token"},
            auth=(storage.client.client_id, storage.client.client_secret),
            timeout=10,
            verify=TLS_CONTEXT,
        )
        assert revoked.status_code == 200 and revoked.content == b""
        since = time.monotonic()
        while (response := mcp.post(list_tools, token)).status_code == 200 and time.monotonic() - since < TTL + 3:
            time.sleep(0.1)
        assert response.status_code == 401, response.text
        assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"
        assert time.monotonic() - since <= TTL + 1
