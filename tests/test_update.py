"""The update path: a project rendered from an older template takes the template's fixes with
`copier update`, keeps its own edits, and still passes its suite. Renders are reproducible."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ENV, ROOT, UV, run

COPIER = str(ROOT / ".venv" / "bin" / "copier")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def template_clone(tmp_path: Path) -> Path:
    """A clone of this template's committed HEAD, with uncommitted work (if any) committed on top."""
    clone = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(ROOT), str(clone))
    status = git(ROOT, "status", "--porcelain")
    if status.strip():  # test the working tree, as the other template tests do
        for line in git(ROOT, "ls-files", "--modified", "--others", "--exclude-standard", "-z").split("\0"):
            if line:
                target = clone / line
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((ROOT / line).read_bytes())
        for line in git(ROOT, "ls-files", "--deleted", "-z").split("\0"):
            if line:
                (clone / line).unlink(missing_ok=True)
        git(clone, "add", "-A")
        git(clone, "commit", "--quiet", "-m", "working tree")
    return clone


def copier(*args: str, cwd: Path) -> None:
    result = run([COPIER, *args], cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_update_from_an_older_version_keeps_user_edits(tmp_path):
    template = template_clone(tmp_path)
    git(template, "tag", "v0.0.1")
    project = tmp_path / "project"
    copier("copy", "--defaults", "--trust", "--vcs-ref=v0.0.1", str(template), str(project), cwd=tmp_path)
    git(project, "init", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "generated")

    # The user's own work: a new tool module, a changed setting default, a README paragraph.
    package = project / "src" / "whatalo_mcp"
    (package / "tools" / "mine.py").write_text(
        '"""A tool of my own."""\n\nSCOPE = "read:store"\nDESCRIPTION = "mine"\nTOOLS: list[object] = []\n'
    )
    settings = package / "settings.py"
    settings.write_text(settings.read_text().replace("default=3.0, gt=0", "default=2.0, gt=0"))
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\n## Our deployment\n\nWe run two replicas in eu-west.\n")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "our changes")

    # The template's fix, released as a newer version.
    log_module = template / "template" / "src" / "{{package_name}}" / "log.py"
    log_module.write_text(log_module.read_text().replace('FORMAT = "%(asctime)s', 'FORMAT = "%(asctime)s [fixed]'))
    git(template, "commit", "--quiet", "-am", "a fix in the log format")
    git(template, "tag", "v0.0.2")

    copier("update", "--defaults", "--trust", "--vcs-ref=v0.0.2", cwd=project)

    assert "[fixed]" in (package / "log.py").read_text()  # the template's change arrived
    assert (package / "tools" / "mine.py").exists()  # user edits kept
    assert "default=2.0, gt=0" in settings.read_text()
    assert "We run two replicas in eu-west." in readme.read_text()
    assert "_commit: v0.0.2" in (project / ".copier-answers.yml").read_text()
    assert not list(project.rglob("*.rej"))
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert "<<<<<<<" not in path.read_text(errors="replace"), f"conflict markers in {path}"

    synced = run([UV, "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    tests = run([UV, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=project, timeout=600)
    assert tests.returncode == 0, tests.stdout[-5000:]


def test_render_is_reproducible_and_already_formatted(copie, checks_python):
    first = copie.copy(extra_answers={"scopes": ["read:store", "write:orders"]})
    second = copie.copy(extra_answers={"scopes": ["read:store", "write:orders"]})
    assert first.exit_code == second.exit_code == 0
    comparison = filecmp.dircmp(first.project_dir, second.project_dir)

    def differing(cmp: filecmp.dircmp[str]) -> list[str]:
        found = list(cmp.diff_files) + list(cmp.left_only) + list(cmp.right_only)
        for sub in cmp.subdirs.values():
            found += differing(sub)
        return found

    assert differing(comparison) == []  # byte-identical
    ruff = str(Path(checks_python).parent / "ruff")
    formatted = run([ruff, "format", "--check", "."], cwd=first.project_dir)
    assert formatted.returncode == 0, formatted.stdout  # formatting a fresh render changes nothing
