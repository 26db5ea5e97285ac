"""F-18, CACHE-03: a flood of random tokens stays bounded in calls to Whatalo and in memory."""

from __future__ import annotations

import asyncio
import json
import resource
import secrets
import time

import httpx2 as httpx

from tests.project import (
    AuthorizationServer,
    AuthServerUnavailable,
    Introspector,
    MemoryCache,
    cache_backend,
    load_settings,
)

ISSUER = "https://as.example"
RESOURCE = "https://mcp.example"
FLOOD = 100_000
RATE = 200.0


def test_f18_flood_of_random_tokens(cache_settings, capsys):
    calls = 0

    def whatalo(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        if request.url.path == "/.well-known/oauth-authorization-server":
            body = {"issuer": ISSUER, "introspection_endpoint": f"{ISSUER}/i", "token_endpoint": f"{ISSUER}/t"}
            return httpx.Response(200, json=body)
        calls += 1
        claims = {"active": True, "aud": RESOURCE, "exp": int(time.time()) + 3600, "whatalo_store_id": "str_x"}
        return httpx.Response(200, content=json.dumps(claims), headers={"content-type": "application/json"})

    settings = load_settings(
        whatalo_issuer=ISSUER,
        whatalo_client_id="rs",
        whatalo_client_secret="secret",
        mcp_resource_url=RESOURCE,
        introspection_cache_size=1000,
        introspection_rate_limit=RATE,
        **cache_settings,
    )

    async def flood() -> tuple[int, int, float]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(whatalo)) as http:
            cache = cache_backend.open_cache(settings)
            introspector = Introspector(settings, http, AuthorizationServer(http, ISSUER, 3), cache)
            accepted = refused = 0
            started = time.monotonic()
            for _ in range(FLOOD):
                try:
                    await introspector.principal(secrets.token_urlsafe(32))
                    accepted += 1
                except AuthServerUnavailable:
                    refused += 1
            elapsed = time.monotonic() - started
            # The process's own memory: the cache itself, or a shared cache's near cache (the shared store expires).
            local = cache if isinstance(cache, MemoryCache) else cache.near  # type: ignore[attr-defined]
            size = len(local)
            await cache.aclose()
            return accepted, size, elapsed

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    accepted, size, elapsed = asyncio.run(flood())
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with capsys.disabled():
        print(
            f"\nflood: {FLOOD} random tokens in {elapsed:.1f} s, {calls} introspections "
            f"({calls / elapsed:.0f}/s, limit {RATE:.0f}/s), in-process cache {size} entries, "
            f"max RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB"
        )
    assert calls == accepted
    assert calls <= RATE * elapsed + 2 * RATE + 1  # the call rate stays within the limit (plus its burst)
    assert 0 < size <= 1000  # the in-process cache keeps its bound
    assert rss_after - rss_before < 100 * 1024  # under 100 MiB of growth for 100,000 tokens
