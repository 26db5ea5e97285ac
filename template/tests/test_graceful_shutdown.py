"""Graceful shutdown of a real ``serve`` process: drain (``/readyz`` 503, requests still served),
then stop accepting, finish in-flight calls, exit 0; a second signal exits at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.helpers import MCP_HEADERS, RS_CLIENT_ID, STORE_A, TLS_CONTEXT, TOOLS_LIST, RunningSandbox, free_port
from tests.project import PACKAGE, SCOPES, SandboxState

DRAIN = 1.5
GRACEFUL = 10  # serving.GRACEFUL_SECONDS


@pytest.fixture(autouse=True)
def whatalo_healthy_afterwards(sandbox_server: RunningSandbox) -> Iterator[None]:
    """The faults set here end with the test: modules that use the sandbox without resetting it come later."""
    yield
    sandbox_server.state.introspection_delay = 0.0
    sandbox_server.state.introspection_fault = None


@contextmanager
def serving(
    sandbox_server: RunningSandbox, cache_settings: dict[str, Any], log: Path, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m <package> serve`` against the sandbox, ready; killed afterwards if it is still running."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    variables = {
        "PATH": os.environ.get("PATH", ""),
        "WHATALO_ISSUER": sandbox_server.state.issuer,
        "WHATALO_API_URL": sandbox_server.state.api_url,
        "WHATALO_CLIENT_ID": RS_CLIENT_ID,
        "WHATALO_CLIENT_SECRET": sandbox_server.client_secret,
        "MCP_RESOURCE_URL": url,
        "MCP_PORT": str(port),
        "LOG_LEVEL": "INFO",
        **{name.upper(): str(value) for name, value in cache_settings.items()},
        **env,
    }
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", PACKAGE, "serve"], env=variables, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if httpx.get(url + "/readyz", timeout=1, verify=TLS_CONTEXT).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the server did not become ready"
                time.sleep(0.05)
            yield process, url
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def post(url: str, token: str, timeout: float = 15) -> int:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return httpx.post(url + "/mcp", json=TOOLS_LIST, headers=headers, timeout=timeout, verify=TLS_CONTEXT).status_code


def mint(sandbox: SandboxState, secrets_seen: set[str], audience: str) -> str:
    token = sandbox.mint(STORE_A, list(SCOPES), audience)
    secrets_seen.add(token)
    return token


def wait_until(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_sigterm_drains_then_finishes_in_flight_calls_and_exits_0(
    sandbox_server, sandbox, cache_settings, secrets_seen, tmp_path
):
    log = tmp_path / "serve.log"
    with serving(sandbox_server, cache_settings, log, SHUTDOWN_DRAIN_SECONDS=str(DRAIN), INTROSPECTION_TIMEOUT="8") as (
        process,
        url,
    ):
        warm = mint(sandbox, secrets_seen, url)
        assert post(url, warm) == 200
        sandbox.introspection_delay = DRAIN + 1.5  # a call still in flight when the drain ends
        slow: list[int] = []
        caller = threading.Thread(target=lambda: slow.append(post(url, mint(sandbox, secrets_seen, url))))
        before = sandbox.counters.introspections
        caller.start()
        wait_until(lambda: sandbox.counters.introspections > before, 5, "the slow call did not reach Whatalo")

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        wait_until(
            lambda: httpx.get(url + "/readyz", timeout=2, verify=TLS_CONTEXT).status_code == 503, 1, "still ready"
        )
        draining = httpx.get(url + "/readyz", timeout=2, verify=TLS_CONTEXT)
        assert draining.json()["status"] == "draining"
        assert time.monotonic() - signalled < DRAIN
        assert post(url, warm) == 200  # a new request during the drain is still served

        caller.join(timeout=GRACEFUL + 5)
        assert slow == [200]  # the in-flight call finished after the drain ended
        process.wait(timeout=GRACEFUL + 5)
        elapsed = time.monotonic() - signalled
        assert process.returncode == 0, log.read_text()
        assert DRAIN <= elapsed < DRAIN + GRACEFUL
    text = log.read_text()
    assert "SIGTERM: draining for 1.5 s" in text and "Traceback" not in text, text


def test_a_second_signal_exits_at_once(sandbox_server, sandbox, cache_settings, secrets_seen, tmp_path):
    log = tmp_path / "serve.log"
    with serving(sandbox_server, cache_settings, log, SHUTDOWN_DRAIN_SECONDS="60", INTROSPECTION_TIMEOUT="8") as (
        process,
        url,
    ):
        sandbox.introspection_delay = 6.0
        dropped: list[str] = []

        def call() -> None:
            try:
                post(url, mint(sandbox, secrets_seen, url), timeout=10)
            except httpx.TransportError as exc:
                dropped.append(type(exc).__name__)

        caller = threading.Thread(target=call)
        before = sandbox.counters.introspections
        caller.start()
        wait_until(lambda: sandbox.counters.introspections > before, 5, "the slow call did not reach Whatalo")
        process.send_signal(signal.SIGTERM)
        wait_until(
            lambda: httpx.get(url + "/readyz", timeout=2, verify=TLS_CONTEXT).status_code == 503, 2, "still ready"
        )
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=5)
        assert time.monotonic() - signalled < 3  # neither the 60 s drain nor the in-flight call
        assert process.returncode == 128 + signal.SIGTERM
        caller.join(timeout=15)
        assert dropped  # the call in flight was dropped, not waited for
    text = log.read_text()
    assert "SIGTERM again: exiting now; in-flight requests dropped: " in text and "Traceback" not in text, text
