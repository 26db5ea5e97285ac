"""The production image's build: the package without its sandbox, as the Dockerfile makes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.project import PACKAGE

SOURCE = Path(__file__).resolve().parent.parent / "src" / PACKAGE


@pytest.fixture(scope="module")
def without_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package with ``sandbox/`` removed (the Dockerfile's ``rm -rf``), first on the path."""
    root = tmp_path_factory.mktemp("build")
    shutil.copytree(SOURCE, root / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(root / PACKAGE / "sandbox")
    return root


def run_build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root)},
    )


def test_the_copy_is_the_one_imported(without_sandbox: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(without_sandbox)},
    )
    assert found.stdout.strip() == str(without_sandbox / PACKAGE / "__init__.py")


@pytest.mark.parametrize("command", [["dev", "--port", "1"], ["sandbox", "--port", "1"]])
def test_dev_and_sandbox_say_in_one_line_that_the_sandbox_is_for_development(
    without_sandbox: Path, command: list[str]
) -> None:
    result = run_build(without_sandbox, *command)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "sandbox is for development" in lines[0]
    assert f"uv run python -m {PACKAGE} dev" in lines[0]  # how to get it
    assert "Traceback" not in result.stderr and "ModuleNotFoundError" not in result.stderr


def test_the_server_commands_work_without_the_sandbox(without_sandbox: Path) -> None:
    result = run_build(without_sandbox, "tools")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
