"""A rendered project's `dev` command, run as a user would, for the tests of real MCP clients."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import ENV, UV, free_port, render, run

COMMAND = "inspector-check"  # the command of a project named "Inspector Check"


def synced_project(copie: Any) -> Path:
    """The default render, named so its command is ``COMMAND``, with its environment synced."""
    project = render(copie, project_name="Inspector Check")
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    return project


@contextmanager
def running_dev(project: Path) -> Iterator[str]:
    """Run ``dev`` on free ports until it says it is ready; yield the MCP URL; stop it with Ctrl-C."""
    port, sandbox_port = free_port(), free_port()
    dev = subprocess.Popen(
        [UV, "run", "--no-sync", COMMAND, "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
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
        yield f"http://localhost:{port}/mcp"
    finally:
        stop(dev, signal.SIGINT)


def stop(process: subprocess.Popen[Any], sig: int) -> None:
    """Stop ``process`` and its children (started with ``start_new_session``), bounded."""
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
