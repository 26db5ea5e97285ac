"""The TypeScript MCP SDK signs in to `dev` and calls a tool.

mcp-remote, Claude Desktop and MCP Inspector build on the TypeScript SDK's OAuth client, not on the
Python one the rendered suites use (tests/test_mcp_inspector.py clicks through the Inspector itself). This test renders the default project, runs its `dev` command as a
user would, and drives the TypeScript SDK through the whole flow (tests/typescript/oauth_flow.mjs).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run
from tests.dev_server import running_dev, synced_project

STORE = "str_3j5h7g9f"  # the sandbox's second demo store, so a default store cannot pass by chance

pytestmark = pytest.mark.slow


def test_typescript_sdk_signs_in_through_dev_and_calls_a_tool(copie_session: Any, tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed (.ci/run installs them)"
    client_dir = tmp_path / "client"
    shutil.copytree(ROOT / "tests" / "typescript", client_dir)
    installed = run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=client_dir, timeout=300)
    assert installed.returncode == 0, installed.stderr

    with running_dev(synced_project(copie_session)) as mcp_url:
        flow = run(
            ["node", "oauth_flow.mjs", mcp_url, STORE, "get_store"],
            cwd=client_dir,
            timeout=120,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
    assert flow.returncode == 0, flow.stdout + flow.stderr
    assert f"get_store on {STORE}" in flow.stdout
