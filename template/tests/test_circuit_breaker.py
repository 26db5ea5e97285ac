"""The circuit breaker on Whatalo's authorization server: after repeated failures, 503 at once.

Introspection and token exchange share one breaker (one authorization server). Cached tokens never
touch it. After ``OPEN_SECONDS`` one trial call goes through; its success closes the circuit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from tests.helpers import PROBES, TOOLS_LIST, RunningSandbox
from tests.project import breaker

BREAKER = "Whatalo's authorization server"


@pytest.fixture(autouse=True)
def whatalo_healthy_afterwards(sandbox_server: RunningSandbox) -> Iterator[None]:
    """The faults set here end with the test: modules that use the sandbox without resetting it come later."""
    yield
    sandbox_server.state.introspection_delay = 0.0
    sandbox_server.state.introspection_fault = None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_closed_open_half_open_closed(caplog):
    clock = Clock()
    circuit = breaker.CircuitBreaker("Whatalo", failures=3, open_seconds=2.0, clock=clock)
    caplog.set_level(logging.DEBUG, logger=breaker.__name__)
    for _ in range(2):
        circuit.admit()
        circuit.failed("timeout")
    circuit.admit()
    circuit.succeeded()  # a success in between: the count starts again
    for _ in range(3):
        circuit.admit()
        circuit.failed("HTTP 503")
    assert circuit.state is breaker.State.OPEN
    with pytest.raises(breaker.CircuitOpen) as refused:
        circuit.admit()
    assert refused.value.retry_after == 2
    clock.now = 1.5
    with pytest.raises(breaker.CircuitOpen) as refused:
        circuit.admit()
    assert refused.value.retry_after == 1

    clock.now = 2.0  # half-open: one trial, the others still refused
    assert circuit.state is breaker.State.HALF_OPEN
    circuit.admit()
    with pytest.raises(breaker.CircuitOpen):
        circuit.admit()
    circuit.failed("timeout")  # the trial failed: open for another two seconds
    assert circuit.state is breaker.State.OPEN
    clock.now = 3.9
    with pytest.raises(breaker.CircuitOpen):
        circuit.admit()

    clock.now = 4.0
    circuit.admit()  # a trial that never reports...
    clock.now = 6.0
    circuit.admit()  # ...is given up: another call is the trial
    circuit.succeeded()
    assert circuit.state is breaker.State.CLOSED
    circuit.admit()
    circuit.admit()

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2  # opened once, closed once; the failed trial in between is not a warning
    assert "failed 3 times in a row (last: HTTP 503): circuit open" in warnings[0]
    assert "answers again after 6.0 s: circuit closed" in warnings[1]


def open_the_circuit(client, mint, audience: str) -> None:
    for _ in range(breaker.FAILURES):
        assert client.post(TOOLS_LIST, mint(audience=audience)).status_code == 503


def test_a_slow_whatalo_is_answered_at_once_and_cached_tokens_still_serve(
    server_factory, connect, mint, sandbox, log_capture
):
    start = len(log_capture.lines)
    with server_factory(introspection_timeout=0.5) as running:
        circuit = running.server.app.state.components.authorization_server.breaker
        circuit.open_seconds = 1.0  # a shorter pause than in production, for the test's sake
        client = connect(running)
        cached = mint(audience=running.resource_url)
        assert client.post(TOOLS_LIST, cached).status_code == 200

        sandbox.introspection_delay = 3.0  # over the timeout: every introspection times out
        began = time.monotonic()
        open_the_circuit(client, mint, running.resource_url)
        assert time.monotonic() - began >= breaker.FAILURES * 0.5  # each of these waited for its timeout
        before = sandbox.counters.introspections

        began = time.monotonic()
        refused = client.post(TOOLS_LIST, mint(audience=running.resource_url))
        assert time.monotonic() - began < 0.4  # at once, not after the timeout
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) == 1
        assert "www-authenticate" not in refused.headers
        assert sandbox.counters.introspections == before  # Whatalo was not asked
        assert client.post(TOOLS_LIST, cached).status_code == 200  # a cache hit never touches the breaker
        ready = client.http.get(running.url + "/readyz")  # Whatalo is every replica's: still ready
        assert ready.status_code == 200 and ready.json()["checks"]["authorization_server"].startswith("failing")

        sandbox.introspection_delay = 0.0  # Whatalo recovers; after the pause one trial closes the circuit
        time.sleep(1.1)
        assert client.post(TOOLS_LIST, mint(audience=running.resource_url)).status_code == 200
        assert client.post(TOOLS_LIST, mint(audience=running.resource_url)).status_code == 200
        assert circuit.state is breaker.State.CLOSED
        assert client.http.get(running.url + "/readyz").json()["checks"]["authorization_server"] == "ok"
    lines = [line for line in log_capture.lines[start:] if breaker.__name__ in line]
    assert len([line for line in lines if "circuit open" in line]) == 1
    assert len([line for line in lines if "circuit closed" in line]) == 1


@pytest.mark.parametrize("fault", [(500, "{}"), (503, "{}"), (429, "{}")])
def test_5xx_and_429_open_it_and_a_failed_trial_keeps_it_open(server_factory, connect, mint, sandbox, fault):
    with server_factory() as running:
        circuit = running.server.app.state.components.authorization_server.breaker
        circuit.open_seconds = 0.5
        client = connect(running)
        sandbox.introspection_fault = fault
        open_the_circuit(client, mint, running.resource_url)
        assert circuit.state is breaker.State.OPEN
        time.sleep(0.6)
        before = sandbox.counters.introspections
        assert client.post(TOOLS_LIST, mint(audience=running.resource_url)).status_code == 503  # the trial
        assert sandbox.counters.introspections == before + 1
        assert client.post(TOOLS_LIST, mint(audience=running.resource_url)).status_code == 503  # open again
        assert sandbox.counters.introspections == before + 1


def test_an_inactive_token_is_an_answer_not_a_failure(server_factory, connect, sandbox):
    with server_factory() as running:
        circuit = running.server.app.state.components.authorization_server.breaker
        client = connect(running)
        for n in range(breaker.FAILURES + 2):
            assert client.post(TOOLS_LIST, f"never-issued-{n}").status_code == 401
        assert circuit.state is breaker.State.CLOSED


def test_token_exchange_shares_the_breaker(server_factory, connect, mint, sandbox):
    """With the circuit open, a tool call of a cached token gets a tool error at once, not a wait."""
    with server_factory(tools=PROBES, introspection_timeout=0.5) as running:
        client = connect(running)
        cached = mint(["read:store"], audience=running.resource_url)
        assert client.post(TOOLS_LIST, cached).status_code == 200
        sandbox.introspection_delay = 3.0
        open_the_circuit(client, mint, running.resource_url)
        began = time.monotonic()
        result = client.call(cached, "probe_store")
        assert time.monotonic() - began < 0.4
        assert result.is_error and "TOKEN_EXCHANGE_UNAVAILABLE" in result.text
        assert sandbox.counters.exchanges == 0
