"""Introspection calls (RFC 7662) and their cache (checklist CACHE-*, INT-11, F-21, F-22)."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import TOOLS_LIST
from tests.project import SingleFlight


def test_cache_01_active_result_reused(mcp, mint, sandbox):
    token = mint()
    for _ in range(5):
        assert mcp.post(TOOLS_LIST, token).status_code == 200
    assert sandbox.counters.introspections == 1


def test_cache_05_inactive_never_cached(mcp, mint, sandbox):
    token = mint()
    sandbox.revoke(token)
    assert mcp.post(TOOLS_LIST, token).status_code == 401
    sandbox.tokens[token].revoked = False
    assert mcp.post(TOOLS_LIST, token).status_code == 200  # the very next request sees the change
    assert sandbox.counters.introspections == 2


def test_int_11_f22_single_flight(mcp, mint, sandbox):
    token = mint()
    sandbox.introspection_delay = 0.3
    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(pool.map(lambda _: mcp.post(TOOLS_LIST, token).status_code, range(50)))
    assert statuses == [200] * 50
    assert sandbox.counters.introspections == 1


def test_cache_06_f21_revocation_within_ttl(server_factory, mcp, mint, sandbox):
    with server_factory(introspection_cache_ttl=1) as running:
        mcp.url = running.mcp_url
        token = mint(audience=running.resource_url)
        assert mcp.post(TOOLS_LIST, token).status_code == 200
        sandbox.revoke(token)
        deadline = time.monotonic() + 3
        while mcp.post(TOOLS_LIST, token).status_code == 200:
            assert time.monotonic() < deadline, "revocation not seen within TTL + 2 s"
            time.sleep(0.1)


def test_cache_01_entry_never_outlives_exp(server_factory, mcp, mint, sandbox):
    with server_factory() as running:
        mcp.url = running.mcp_url
        token = mint(audience=running.resource_url, expires_in=2)
        assert mcp.post(TOOLS_LIST, token).status_code == 200
        assert sandbox.counters.introspections == 1
        time.sleep(2.2)
        assert mcp.post(TOOLS_LIST, token).status_code == 401  # re-introspected, not served from cache
        assert sandbox.counters.introspections == 2


def test_single_flight_shares_one_computation_and_errors():
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 7

    async def failing() -> int:
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    async def scenario() -> None:
        flight = SingleFlight()
        assert await asyncio.gather(*(flight.run("k", compute) for _ in range(20))) == [7] * 20
        with pytest.raises(ValueError):
            await flight.run("e", failing)
        assert await flight.run("k", compute) == 7

    asyncio.run(scenario())
    assert calls == 2
