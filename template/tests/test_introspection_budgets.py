"""Per-client introspection budgets: one client's flood of random tokens does not crowd out new users.

Every request here comes from 127.0.0.1, a trusted proxy by default (``FORWARDED_ALLOW_IPS``), so
uvicorn takes the client from ``X-Forwarded-For``, as it would behind a load balancer.
"""

from __future__ import annotations

import secrets
import time

import pytest

from tests.helpers import TOOLS_LIST
from tests.project import CACHE_SETTINGS, QUIET_SECONDS, ConfigError, Sampled, load_settings, ratelimit

ATTACKER = "203.0.113.7"
USERS = [f"198.51.100.{n}" for n in range(1, 9)]
# A global ceiling of 5 misses/s (burst 10) and 1/s (burst 2) per client: the flood alone would
# spend the global burst several times over.
BUDGETS = {"introspection_rate_limit": 5, "introspection_client_rate_limit": 1}


def flood_then_first_calls(server_factory, connect, mint) -> tuple[list[int], list[int], float]:
    """Ten random tokens from the attacker before each new user's first call with a valid token."""
    with server_factory(**BUDGETS) as running:
        client = connect(running)
        flood: list[int] = []
        first_calls: list[int] = []
        started = time.monotonic()
        for user in USERS:
            for _ in range(10):
                response = client.post(TOOLS_LIST, secrets.token_urlsafe(24), {"X-Forwarded-For": ATTACKER})
                flood.append(response.status_code)
            token = mint(audience=running.resource_url)
            first_calls.append(client.post(TOOLS_LIST, token, {"X-Forwarded-For": user}).status_code)
        return flood, first_calls, time.monotonic() - started


def test_a_new_user_gets_through_during_a_flood_from_one_client(server_factory, connect, mint, log_capture):
    logged = len(log_capture.lines)
    flood, first_calls, elapsed = flood_then_first_calls(server_factory, connect, mint)
    assert first_calls == [200] * len(USERS)
    assert flood.count(401) <= 2 + elapsed + 1  # the attacker's own budget: its burst, and what refilled
    assert set(flood) == {401, 503}
    # The flood does not flood the log: one line per reason every few seconds, naming the client.
    refusals = [line for line in log_capture.lines[logged:] if "cannot decide on token" in line]
    assert 1 <= len(refusals) <= 2 * (elapsed / QUIET_SECONDS + 1) < flood.count(503)
    assert all(f"from {ATTACKER}:" in line for line in refusals)


def test_503_log_lines_are_one_per_reason_and_interval_with_a_count():
    now = [0.0]
    sampled = Sampled(interval=10, clock=lambda: now[0])
    assert sampled.take("budget spent") == 0  # the first is logged
    assert [sampled.take("budget spent") for _ in range(5)] == [None] * 5
    assert sampled.take("Whatalo down") == 0  # another reason has its own line
    now[0] = 10.5
    assert sampled.take("budget spent") == 5  # logged again, with how many were left out


def test_the_forwarded_address_counts_only_from_a_trusted_proxy(server_factory, connect, mint, monkeypatch):
    """With no trusted proxy, everyone is 127.0.0.1: one budget, which the flood spends."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")  # read by uvicorn's Config in the test server
    _, first_calls, elapsed = flood_then_first_calls(server_factory, connect, mint)
    assert first_calls.count(200) <= elapsed + 1  # only what the one bucket refilled


def test_the_global_ceiling_still_holds(server_factory, connect):
    """Many clients, each within its budget, still start at most the global rate of introspections."""
    with server_factory(introspection_rate_limit=5, introspection_client_rate_limit=100) as running:
        client = connect(running)
        statuses = [
            client.post(TOOLS_LIST, secrets.token_urlsafe(24), {"X-Forwarded-For": f"10.0.{n // 250}.{n % 250}"})
            for n in range(40)
        ]
        codes = [response.status_code for response in statuses]
    assert codes.count(401) <= 10 + 5 * 2  # burst plus at most two seconds of refill
    refused = [response for response in statuses if response.status_code == 503]
    assert refused and all(int(response.headers["retry-after"]) >= 1 for response in refused)


def test_clients_are_addresses_and_ipv6_networks():
    assert ratelimit.client_key("192.0.2.10") == "192.0.2.10"
    assert ratelimit.client_key("2001:db8:1:2:aaaa::1") == ratelimit.client_key("2001:db8:1:2:ffff::9")
    assert ratelimit.client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert ratelimit.client_key("2001:db8:1:3::1") != ratelimit.client_key("2001:db8:1:2::1")
    assert ratelimit.client_key("::ffff:192.0.2.10") == "192.0.2.10"
    assert len(ratelimit.client_key("x" * 1000)) == 64


def test_the_client_table_is_bounded_and_the_global_budget_is_refunded():
    now = [0.0]
    budget = ratelimit.IntrospectionBudget(rate=0, client_rate=1, max_clients=100, clock=lambda: now[0])
    for n in range(10_000):
        budget.spend(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    assert len(budget) == 100
    budget.spend("192.0.2.1")
    budget.spend("192.0.2.1")  # the burst of 2
    with pytest.raises(ratelimit.Refused, match="INTROSPECTION_CLIENT_RATE_LIMIT"):
        budget.spend("192.0.2.1")

    tight = ratelimit.IntrospectionBudget(rate=1, client_rate=1, clock=lambda: now[0])
    tight.spend("192.0.2.1")  # the global burst is 2 too
    tight.spend("192.0.2.2")
    for _ in range(3):  # refused by the global budget each time, never by its own: its token is given back
        with pytest.raises(ratelimit.Refused, match=r"\(INTROSPECTION_RATE_LIMIT\)"):
            tight.spend("192.0.2.3")
    now[0] += 1.0
    tight.spend(None)  # no address: the global budget only


def test_settings_of_budgets_and_proxies():
    base = {"whatalo_client_id": "id", "whatalo_client_secret": "secret", **CACHE_SETTINGS}
    settings = load_settings(**base, introspection_rate_limit=50)
    assert settings.client_rate_limit == 5  # a tenth of the global ceiling unless set
    assert load_settings(**base, introspection_client_rate_limit=0).client_rate_limit == 0
    assert load_settings(**base, forwarded_allow_ips=" 10.0.0.0/8, ::1 ").forwarded_allow_ips == "10.0.0.0/8,::1"
    with pytest.raises(ConfigError, match=r"FORWARDED_ALLOW_IPS .*'lb\.internal'"):
        load_settings(**base, forwarded_allow_ips="10.0.0.1,lb.internal")
