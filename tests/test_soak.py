"""The soak of a Redis render: its own ``pytest -m soak`` (three replicas behind HAProxy, under faults)."""

from __future__ import annotations

import pytest

from tests.conftest import UV, render, require, run


@pytest.mark.slow
@pytest.mark.soak
def test_redis_render_passes_its_soak(copie, capsys):
    require("redis-server", "haproxy")
    project = render(copie, cache="redis")
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    soak = run(
        [UV, "run", "--no-sync", "pytest", "-m", "soak", "-q", "-p", "no:cacheprovider"], cwd=project, timeout=600
    )
    with capsys.disabled():  # the table and the figures the deployment guide quotes
        print(
            "\n"
            + "\n".join(
                line
                for line in soak.stdout.splitlines()
                if line.startswith(("|", "soak:", "steady:", "redis", "introspections", "replica", "failures", "  "))
            )
        )
    assert soak.returncode == 0, soak.stdout[-8000:] + soak.stderr[-3000:]
    assert "1 passed" in soak.stdout, soak.stdout[-3000:]
    assert "| steady |" in soak.stdout and "| flood (random tokens) |" in soak.stdout
