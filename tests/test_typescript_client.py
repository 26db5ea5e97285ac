"""The TypeScript MCP SDKs sign in to `dev`, call tools and step up, in both protocol eras.

mcp-remote and Claude Desktop build on the TypeScript SDK 1.x (`@modelcontextprotocol/sdk`, legacy
era only); MCP Inspector 2 builds on its successor, `@modelcontextprotocol/client` 2.x, which speaks
both eras (`versionNegotiation`). Neither is the Python client the rendered suites use. This module
renders the default project, runs its `dev` once as a user would, and drives each SDK through
tests/typescript/oauth_flow.mjs (versions pinned in tests/typescript/package.json, with the Node.js 22
that 2.x needs, so a system Node.js older than 20 only has to run npm): the OAuth sign-in
with read:store left unticked, the era on the wire, tool calls, an unknown argument and an
out-of-range value refused as tool errors with the connection still working, the step-up of
get_store (one consent, after which count_products still works without another), and a rejected
token (401).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run
from tests.dev_server import ANDES, Dev, npm_installed, running_dev, synced_project

pytestmark = pytest.mark.slow

# (library, era): 1.x speaks the legacy era only; 2.x is driven in each era.
CASES = [("sdk", "legacy"), ("client", "legacy"), ("client", "modern")]


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return npm_installed("typescript", tmp_path_factory)


@pytest.fixture(scope="module")
def dev(copie_session: Any) -> Iterator[Dev]:
    with running_dev(synced_project(copie_session)) as dev:
        yield dev


@pytest.mark.parametrize(("library", "era"), CASES, ids=[f"{library}-{era}" for library, era in CASES])
def test_typescript_sdk_signs_in_steps_up_and_keeps_its_grant(
    library: str, era: str, client_dir: Path, dev: Dev
) -> None:
    # The sandbox's second demo store, so that a default store cannot pass by chance.
    flow = run(
        ["node", "oauth_flow.mjs", library, era, dev.mcp_url, ANDES],
        cwd=client_dir,
        timeout=120,
        env={
            **os.environ,
            "PATH": f"{client_dir / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
            "NODE_NO_WARNINGS": "1",
        },
    )
    assert flow.returncode == 0, f"{flow.stdout}{flow.stderr}\ndev printed (last lines):\n{dev.output()[-3000:]}"
    assert f"ok: {library} {era}:" in flow.stdout, flow.stdout
