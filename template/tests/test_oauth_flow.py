"""End to end: the official MCP client (``OAuthClientProvider``) signs in at the sandbox like a real host.

No token to start with: 401, protected resource metadata, AS discovery, DCR,
authorization code + PKCE through the consent page (answered over HTTP by
``Merchant``), then tool calls on the store the merchant picked; a step-up
when a call needs a scope the merchant did not grant; and a revocation that
the server honours within the introspection cache's TTL.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from tests.helpers import STORE_B, McpClient, challenge_params
from tests.merchant import Merchant
from tests.project import SCOPES, TOOLS, ToolSpec

REDIRECT = "http://127.0.0.1:8765/callback"  # never opened: the merchant's answer is read from the redirect
TTL = 2
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
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


def free(tool: ToolSpec) -> bool:
    """Callable with no arguments (every argument has a default)."""
    return all(p.default is not p.empty for p in inspect.signature(tool.fn).parameters.values())


def pick(tools: list[ToolSpec]) -> ToolSpec:
    """``get_store`` if there, else a tool callable without arguments, else the first."""
    return min(tools, key=lambda tool: (tool.name != "get_store", not free(tool)))


def host(
    url: str,
    merchant: Merchant,
    storage: MemoryStorage,
    seen: Seen,
    scenario: Callable[[Client], Awaitable[None]],
    auth_method: str = "client_secret_basic",
) -> None:
    """Connect the official client to ``url`` with OAuth, the merchant answering consent, and run ``scenario``."""
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
            redirect_uris=[REDIRECT],  # type: ignore[list-item]
            token_endpoint_auth_method=auth_method,  # type: ignore[arg-type]
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )

    async def record(response: httpx.Response) -> None:
        seen.append((response.request.method, response.request.url.path, response.status_code))

    async def run() -> None:
        async with httpx.AsyncClient(auth=provider, timeout=15, event_hooks={"response": [record]}) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                await scenario(client)

    anyio.run(run)


def in_order(seen: Seen, expected: list[tuple[str, str, int]]) -> bool:
    remaining = iter(seen)
    return all(step in remaining for step in expected)


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "none"])  # confidential, or public as Inspector
def test_a_host_signs_in_through_consent_and_works_on_the_store_picked(server, sandbox, auth_method):
    url = server[1].url + "/mcp"
    merchant, storage, seen = Merchant(STORE_B), MemoryStorage(), []
    tool = pick(list(TOOLS))
    results: dict[str, Any] = {}

    async def scenario(client: Client) -> None:
        results["listed"] = {t.name for t in (await client.list_tools()).tools}
        results["call"] = await client.call_tool(tool.name, {})

    host(url, merchant, storage, seen, scenario, auth_method)

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
    assert claims["whatalo_store_id"] == STORE_B and claims["aud"] == server[0].mcp_resource_url
    assert storage.tokens.access_token not in sandbox.api_bearer_tokens  # never passed through
    if free(tool):
        assert not results["call"].is_error, results["call"].content
        assert sandbox.api_bearer_tokens
        assert {sandbox.tokens[t].store_id for t in sandbox.api_bearer_tokens} == {STORE_B}
        if tool.name == "get_store":  # the data itself is the picked store's
            assert results["call"].structured_content["data"]["id"] == STORE_B
    else:  # no tool of this project runs without arguments: a validation error, after authorization
        assert results["call"].is_error and not sandbox.api_bearer_tokens


@pytest.mark.skipif(len(SCOPES) < 2, reason="a step-up needs a second scope; this project has one")
def test_a_call_beyond_the_grant_steps_up_and_succeeds(server, sandbox):
    url = server[1].url + "/mcp"
    first = pick(list(TOOLS))
    second = pick([t for t in TOOLS if t.scope != first.scope])
    merchant, storage, seen = Merchant(STORE_B, scopes={first.scope}), MemoryStorage(), []
    results: dict[str, Any] = {}

    async def scenario(client: Client) -> None:
        results["first"] = await client.call_tool(first.name, {})
        granted = storage.tokens.scope if storage.tokens else None
        results["granted"] = set((granted or "").split())
        merchant.scopes = None  # this time the merchant approves everything asked
        merchant.store = None  # and keeps the store the consent page pre-selects
        results["second"] = await client.call_tool(second.name, {})
        results["store"] = sandbox.introspect(storage.tokens.access_token if storage.tokens else "")

    host(url, merchant, storage, seen, scenario)

    assert results["granted"] == {first.scope}
    steps = [(method, path, status) for method, path, status in seen if path == "/mcp"]
    assert ("POST", "/mcp", 403) in steps, steps
    assert len(merchant.pages) == 2
    assert {first.scope, second.scope} <= set(merchant.pages[1].scopes)
    assert merchant.pages[0].checked_store is None  # a first sign-in: the merchant must pick a store
    assert merchant.pages[1].checked_store == STORE_B  # the step-up widens the same store's grant
    assert results["store"]["whatalo_store_id"] == STORE_B
    assert storage.tokens is not None
    assert {first.scope, second.scope} <= set(sandbox.introspect(storage.tokens.access_token)["scope"].split())
    if free(second):
        assert not results["second"].is_error, results["second"].content
    else:  # past authorization: refused for its missing arguments, not for its scope
        assert results["second"].is_error and "insufficient_scope" not in str(results["second"].content)


def test_a_revoked_token_is_refused_within_the_cache_ttl(server_factory, sandbox):
    with server_factory(introspection_cache_ttl=TTL) as (_, started):
        storage = MemoryStorage()

        async def scenario(client: Client) -> None:
            await client.list_tools()

        host(started.url + "/mcp", Merchant(STORE_B), storage, [], scenario)
        assert storage.tokens is not None and storage.client is not None and storage.client.client_secret
        token = storage.tokens.access_token
        mcp = McpClient(started.url)
        try:
            assert mcp.post(LIST, token).status_code == 200  # admitted, and now cached
            revoked = httpx.post(
                f"{sandbox.issuer}/oauth/revoke",
                data={"token": token, "token_type_hint": "access_token"},
                auth=(storage.client.client_id, storage.client.client_secret),
                timeout=10,
            )
            assert revoked.status_code == 200 and revoked.content == b""
            since = time.monotonic()
            while (response := mcp.post(LIST, token)).status_code == 200 and time.monotonic() - since < TTL + 3:
                time.sleep(0.1)
            assert response.status_code == 401, response.text
            assert challenge_params(response.headers["www-authenticate"])["error"] == "invalid_token"
            assert time.monotonic() - since <= TTL + 1
        finally:
            mcp.close()
