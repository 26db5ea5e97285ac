"""MCP Inspector's side of the README's promise: the TypeScript MCP SDK signs in to `dev` and calls a tool.

MCP Inspector, mcp-remote and Claude Desktop use the TypeScript SDK's OAuth client, not the Python
one the rendered suites use. This test renders the default project, runs its `dev` command as a
user would, and drives the TypeScript SDK through the whole flow (tests/typescript/oauth_flow.mjs).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ENV, ROOT, UV, render, run

STORE = "str_3j5h7g9f"  # the sandbox's second demo store, so a default store cannot pass by chance

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_typescript_sdk_signs_in_through_dev_and_calls_a_tool(copie_session: Any, tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed (.ci/run installs them)"
    client_dir = tmp_path / "client"
    shutil.copytree(ROOT / "tests" / "typescript", client_dir)
    installed = run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=client_dir, timeout=300)
    assert installed.returncode == 0, installed.stderr

    project = render(copie_session, project_name="Inspector Check")
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr

    port, sandbox_port = free_port(), free_port()
    dev = subprocess.Popen(
        [UV, "run", "--no-sync", "inspector-check", "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        cwd=project,
        env={**ENV, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert dev.stdout is not None
        deadline = time.monotonic() + 60
        printed = ""
        while "Ctrl-C stops both" not in printed:
            assert time.monotonic() < deadline and dev.poll() is None, printed
            printed += dev.stdout.readline()
        flow = run(
            ["node", "oauth_flow.mjs", f"http://localhost:{port}/mcp", STORE, "get_store"],
            cwd=client_dir,
            timeout=120,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        assert flow.returncode == 0, flow.stdout + flow.stderr
        assert f"get_store on {STORE}" in flow.stdout
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait(timeout=5)
