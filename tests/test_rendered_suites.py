"""Full runs: a rendered project installs in its own uv environment and passes its own suite."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import ENV, UV, free_port, render, run


@contextmanager
def redis_for(cache: str | None) -> Iterator[dict[str, str]]:
    """The environment for a render's own processes: a throwaway redis-server when it uses Redis."""
    if cache != "redis":
        yield ENV
        return
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], check=False, capture_output=True).stdout.strip()
            != b"PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield {**ENV, "CACHE_URL": f"redis://127.0.0.1:{port}/0"}
    finally:
        process.terminate()
        process.wait(timeout=10)


READ_ONLY = ["read:store", "read:products", "read:orders", "read:customers", "read:discounts"]
VARIANTS = {
    "mcp-memory-default": {},
    "mcp-memory-read-only": {"scopes": READ_ONLY},
    "fastmcp-memory-default": {"framework": "fastmcp"},
    "mcp-redis-default": {"cache": "redis"},
    "fastmcp-redis-default": {"framework": "fastmcp", "cache": "redis"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_rendered_suite_passes(copie, name):
    project = render(copie, **VARIANTS[name])
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    tests = run([UV, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, timeout=600)
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-3000:]
    for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        result = run([UV, "run", "--no-sync", *check], cwd=project)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The benchmark runs (a smoke run; its figures are read by people, not asserted).
    with redis_for(VARIANTS[name].get("cache")) as env:
        bench = run(
            [UV, "run", "--no-sync", "python", "scripts/bench.py", "--quick"], cwd=project, timeout=300, env=env
        )
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
    # bench.py exits 1 on a failed call or a burst of more than one introspection; the line proves it ran.
    assert "auth/floor" in bench.stdout
    assert re.search(
        r"^50-way cold burst of one token: 50/50 answered 200, 1 introspection\(s\)$", bench.stdout, re.MULTILINE
    )
