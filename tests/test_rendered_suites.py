"""Full runs: a rendered project installs in its own uv environment and passes its own suite."""

from __future__ import annotations

import pytest

from tests.conftest import UV, render, run

VARIANTS = {
    "mcp-memory-default": {},
    "mcp-memory-read-only": {"scopes": ["read:store", "read:products", "read:orders", "read:customers", "read:discounts"]},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_rendered_suite_passes(copie, name):
    project = render(copie, **VARIANTS[name])
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    tests = run([UV, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, timeout=600)
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-3000:]
