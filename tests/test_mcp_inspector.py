"""The README's promise, as a newcomer follows it: from `dev` to a tool call in MCP Inspector.

Renders the default project, checks that its README names the Inspector version pinned in
tests/inspector/package.json, runs its `dev`, starts that Inspector (with the Node.js it needs)
with the README's arguments, and clicks through the README's steps in headless Chromium (tests/inspector/inspector_flow.mjs): the
sign-in through the sandbox's consent page, `get_store` on the store picked, and the step-up of a
permission left unticked. Needs npm and Chromium (`.ci/run` installs them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port, run
from tests.dev_server import running_dev, stop, synced_project

STORE = "Andes Outdoor"  # the sandbox's second demo store, so a default store cannot pass by chance

pytestmark = pytest.mark.slow


def test_readme_steps_reach_a_tool_call_in_mcp_inspector(copie_session: Any, tmp_path: Path) -> None:
    npm, chromium = shutil.which("npm"), shutil.which("chromium")
    assert npm and chromium, "npm and chromium are needed (.ci/run installs them)"
    client_dir = tmp_path / "inspector"
    shutil.copytree(ROOT / "tests" / "inspector", client_dir)
    installed = run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=client_dir, timeout=600)
    assert installed.returncode == 0, installed.stderr
    # The `node` package puts Node.js 22 (which the Inspector needs) first on this PATH.
    env = {
        **os.environ,
        "PATH": f"{client_dir / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),  # the Inspector's catalog and stored OAuth state
        "CLIENT_PORT": str(free_port()),
        "MCP_SANDBOX_PORT": "0",
        "MCP_APP_ORIGIN_PORT": "0",
        "MCP_INSPECTOR_API_TOKEN": secrets.token_hex(16),
        "MCP_AUTO_OPEN_ENABLED": "false",
        "NODE_NO_WARNINGS": "1",
    }
    inspector_url = f"http://127.0.0.1:{env['CLIENT_PORT']}/?MCP_INSPECTOR_API_TOKEN={env['MCP_INSPECTOR_API_TOKEN']}"

    project = synced_project(copie_session)
    version = json.loads((client_dir / "package.json").read_text())["dependencies"]["@modelcontextprotocol/inspector"]
    readme_command = f"npx @modelcontextprotocol/inspector@{version} --transport http --server-url"
    assert readme_command in (project / "README.md").read_text(), "the README names another Inspector"

    with running_dev(project) as mcp_url:
        log = (tmp_path / "inspector.log").open("w")
        inspector = subprocess.Popen(
            ["npx", "mcp-inspector", "--transport", "http", "--server-url", mcp_url],
            cwd=client_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_serving(inspector_url, inspector, tmp_path / "inspector.log")
            flow = run(
                ["node", "inspector_flow.mjs", inspector_url, mcp_url, STORE, str(tmp_path / "screenshots")],
                cwd=client_dir,
                timeout=300,
                env={**env, "CHROMIUM": chromium},
            )
        finally:
            stop(inspector, signal.SIGTERM)
            log.close()
    assert flow.returncode == 0, flow.stdout + flow.stderr + (tmp_path / "inspector.log").read_text()


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            assert time.monotonic() < deadline, "MCP Inspector did not serve its page:\n" + log.read_text()
            time.sleep(0.5)
