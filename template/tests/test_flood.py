"""F-18, CACHE-03: a flood of random tokens stays bounded in calls to Whatalo and in memory."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import secrets
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

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
BOUND = 100  # below the number of tokens the rate limit lets through, so the bound is reached


def resident_mib() -> float:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


@pytest.mark.timeout(300)  # under a minute on 2 cores; a shared cache or a busy machine takes longer
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
        introspection_cache_size=BOUND,
        introspection_rate_limit=RATE,
        **cache_settings,
    )

    async def flood() -> tuple[int, int, float, float, float]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(whatalo)) as http:
            cache = cache_backend.open_cache(settings)
            introspector = Introspector(settings, AuthorizationServer(http, settings), cache)
            accepted = refused = 0
            before = resident_mib()
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
            after = resident_mib()  # with the cache still alive
            await cache.aclose()
            return accepted, size, elapsed, before, after

    accepted, size, elapsed, before, after = asyncio.run(flood())
    allowed = RATE * elapsed + 2 * RATE  # the limit's rate over the run, plus its burst
    with capsys.disabled():
        print(
            f"\nflood: {FLOOD} random tokens in {elapsed:.1f} s, {calls} introspections "
            f"(at most {allowed:.0f} allowed: {RATE:.0f}/s plus a burst of {2 * RATE:.0f}), "
            f"in-process cache {size} entries (bound {BOUND}), resident memory {before:.0f} -> {after:.0f} MiB"
        )
    assert calls == accepted
    assert calls <= allowed + 1  # the call rate stays within the limit
    assert accepted > BOUND and size == BOUND  # the cache filled up and kept its bound
    assert after - before < 50  # MiB: 100,000 tokens leave no trace beyond the bounded cache
