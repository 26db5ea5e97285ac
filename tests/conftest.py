"""Rendering helpers shared by the template's tests."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv") or "uv"
ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
ENV.pop("VIRTUAL_ENV", None)


def run(
    cmd: list[str], cwd: Path, timeout: int = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=False, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def seed() -> int:
    """The seed of the random scope selections; exported so pytest-xdist workers share it."""
    value = os.environ.get("TEMPLATE_TEST_SEED") or str(random.SystemRandom().randrange(1, 10**6))
    os.environ["TEMPLATE_TEST_SEED"] = value
    return int(value)


SEED = seed()


def pytest_report_header(config: pytest.Config) -> str:
    return f"template test seed: TEMPLATE_TEST_SEED={SEED} (set it to replay the random scope selections)"


def render(copie: Any, **answers: Any) -> Path:
    result = copie.copy(extra_answers=answers)
    assert result.exit_code == 0, f"render failed for {answers}: {result.exception!r}"
    assert result.project_dir is not None
    return Path(result.project_dir)


@pytest.fixture(scope="session")
def checks_python(copie_session: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python with the dependencies of every framework, for mypy and imports of any render."""
    project = render(copie_session, framework="fastmcp", cache="redis")
    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    return str(project / ".venv" / "bin" / "python")


# The commands the slow tier runs, and the Debian/Ubuntu package that installs each.
PACKAGES = {
    "node": "nodejs",
    "npm": "npm",
    "npx": "npm",
    "chromium": "chromium",
    "redis-server": "redis-server",
    "redis-sentinel": "redis-sentinel",
    "redis-cli": "redis-tools",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "haproxy": "haproxy",
}


def require(*commands: str) -> dict[str, str]:
    """The path of each of ``commands``; a missing one fails the test with the line that installs it."""
    found = {command: shutil.which(command) for command in commands}
    missing = [command for command, path in found.items() if path is None]
    if missing:
        packages = " ".join(dict.fromkeys(PACKAGES.get(command, command) for command in missing))
        needed = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} needed"
        pytest.fail(f"{needed}: apt-get install {packages}", pytrace=False)
    return {command: path for command, path in found.items() if path is not None}
