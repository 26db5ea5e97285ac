"""Full runs: a rendered project installs in its own uv environment and passes its own suite."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import ENV, UV, free_port, render, require, run


@contextmanager
def redis_for(cache: str | None) -> Iterator[dict[str, str]]:
    """The environment for a render's own processes: a throwaway redis-server when it uses Redis."""
    if cache != "redis":
        yield ENV
        return
    port = free_port()
    found = require("redis-server", "redis-cli")
    command = [found["redis-server"], "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                [found["redis-cli"], "-p", str(port), "ping"], check=False, capture_output=True
            ).stdout.strip()
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
    # The start of the failures (the assertion that failed) and the summary: a long captured log
    # would push the assertion out of the tail alone.
    failures = tests.stdout[tests.stdout.find("= FAILURES =") :][:6000] if "= FAILURES =" in tests.stdout else ""
    assert tests.returncode == 0, failures + "\n...\n" + tests.stdout[-3000:] + tests.stderr[-3000:]
    for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        result = run([UV, "run", "--no-sync", *check], cwd=project)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The benchmark runs (a smoke run; its figures are read by people, not asserted).
    with redis_for(VARIANTS[name].get("cache")) as env:
        bench = run(
            [UV, "run", "--no-sync", "python", "scripts/bench.py", "--quick"], cwd=project, timeout=300, env=env
        )
    assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr[-3000:]
    assert_bench_output(bench.stdout, VARIANTS[name].get("framework", "mcp"))


BENCH_WORKLOADS = ("ping (2025-11-25)", "server/discover (2026-07-28)")
BENCH_LOADS = {"concurrent": ("concurrent (10)", "0.95"), "sequential": ("sequential (1 connection)", "0.90")}


def assert_bench_output(stdout: str, framework: str) -> None:
    """What a reader of the benchmark relies on: the bare framework as the floor, every ratio, every verdict.

    bench.py exits 1 on a failed call, a sequential client that needed a second connection, or a burst of
    other than one introspection, so a run that gets here measured answers; the ratios are not asserted
    (a shared CI machine's figures vary), their presence is.
    """
    bare = {"mcp": "the MCP SDK (MCPServer)", "fastmcp": "FastMCP"}[framework]
    assert re.search(
        rf"^bare: {re.escape(bare)} alone \(static token verifier, one tool, uvicorn\.run\)", stdout, re.MULTILINE
    )
    number, ratio = r"\d+", r"\*\*\d+\.\d\d\*\* \(\d+\.\d\d-\d+\.\d\d\)"
    for workload in BENCH_WORKLOADS:
        for kind, (load, target) in BENCH_LOADS.items():
            row = rf"^\| {re.escape(workload)} \| {re.escape(load)} \| {number} \| {number} \| {ratio} \|"
            assert re.search(row, stdout, re.MULTILINE), f"no bare-vs-project row for {workload}, {load}:\n{stdout}"
            verdict = (
                rf"^{re.escape(workload)}, {kind}: project/bare \d+\.\d\d \(target >= {re.escape(target)}\): "
                r"(target met|TARGET MISSED)$"
            )
            assert re.search(verdict, stdout, re.MULTILINE), f"no verdict for {workload}, {kind}:\n{stdout}"
    assert re.search(r"^Targets: project/bare >= 0\.95 concurrent, >= 0\.90 sequential", stdout, re.MULTILINE)
    for workload in (r"tools/call \w+", r"tools/call \w+, new token per call"):  # this project alone
        assert re.search(rf"^\| {workload} \| \d+ \(\d+-\d+\) \|", stdout, re.MULTILINE), (
            f"no {workload} row:\n{stdout}"
        )
    assert re.search(
        r"^50-way cold burst of one token: 50/50 answered 200, 1 introspection\(s\)$", stdout, re.MULTILINE
    )
