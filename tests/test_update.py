"""The update path: a project rendered from an older template takes the template's fixes with
`copier update`, keeps its own edits, and still passes its suite. Renders are reproducible."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ENV, ROOT, UV, render, run

COPIER = str(ROOT / ".venv" / "bin" / "copier")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=False,
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
    if status.strip():  # test the working tree (staged or not), as the other template tests do
        changed = git(ROOT, "diff", "HEAD", "--name-only", "-z") + git(
            ROOT, "ls-files", "--others", "--exclude-standard", "-z"
        )
        for line in filter(None, changed.split("\0")):
            source, target = ROOT / line, clone / line
            if source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read_bytes())
            else:
                target.unlink(missing_ok=True)
        git(clone, "add", "-A")
        git(clone, "commit", "--quiet", "-m", "working tree")
    return clone


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is no longer in {path}: update this test"
    path.write_text(text.replace(old, new))


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

    # The template's fix, released as a newer version: in a file the user did not touch, and in the
    # two template files the user edited (other lines), which Copier must merge with the user's edits.
    sources = template / "template"
    edit(sources / "src" / "{{package_name}}" / "log.py", 'FORMAT = "%(asctime)s', 'FORMAT = "%(asctime)s [fixed]')
    edit(
        sources / "src" / "{{package_name}}" / "settings.py", "checked once at start-up.", "checked at start-up."
    )
    edit(sources / "README.md.jinja", "## Commands\n", "## Commands (fixed)\n")
    git(template, "commit", "--quiet", "-am", "a fix in the log format")
    git(template, "tag", "v0.0.2")

    copier("update", "--defaults", "--trust", "--vcs-ref=v0.0.2", cwd=project)

    assert "[fixed]" in (package / "log.py").read_text()  # the template's changes arrived
    assert "checked at start-up." in settings.read_text() and "## Commands (fixed)" in readme.read_text()
    assert (package / "tools" / "mine.py").exists()  # user edits kept, beside the template's in one file
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


@pytest.mark.parametrize(
    "answers",
    [
        {"scopes": ["read:store", "write:orders"]},
        {"framework": "fastmcp", "cache": "redis"},
    ],
    ids=["mcp-memory", "fastmcp-redis"],
)
def test_render_is_reproducible_and_already_formatted(copie, checks_python, answers):
    first, second = (Path(render(copie, **answers)) for _ in range(2))

    def contents(project: Path) -> dict[str, bytes]:
        return {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*")) if p.is_file()}

    def without_commit(text: bytes) -> bytes:
        return b"\n".join(line for line in text.splitlines() if not line.startswith(b"_commit:"))

    # Byte-identical. Only `_commit` may differ, and only while the template has uncommitted changes
    # (Copier renders them from a temporary commit of its own, made anew, with a new hash, each time).
    one, two = contents(first), contents(second)
    assert one.keys() == two.keys()
    answers_file = ".copier-answers.yml"
    assert [path for path in one if path != answers_file and one[path] != two[path]] == []
    assert without_commit(one[answers_file]) == without_commit(two[answers_file])
    ruff = str(Path(checks_python).parent / "ruff")
    formatted = run([ruff, "format", "--check", "."], cwd=first)
    assert formatted.returncode == 0, formatted.stdout  # formatting a fresh render changes nothing


@pytest.mark.slow
def test_migrations_carry_a_renamed_answer_and_drop_a_removed_one(tmp_path):
    """`_migrations` + migrations/answers.py: a user's answer survives its question's rename."""
    template = template_clone(tmp_path)
    released = {
        path: path.read_text() for path in (template / "copier.yml", template / "template" / "pyproject.toml.jinja")
    }

    # v0.0.1 asked `contact_email` (renamed `author_email` in v0.0.2) and `legacy_note` (removed in v0.0.2).
    for path, text in released.items():
        path.write_text(text.replace("author_email", "contact_email"))
    with (template / "copier.yml").open("a") as config:
        config.write("\nlegacy_note:\n  type: str\n  help: A question v0.0.2 removes\n  default: none\n")
    git(template, "commit", "--quiet", "-am", "the old questions")
    git(template, "tag", "v0.0.1")
    project = tmp_path / "project"
    copier(
        "copy", "--defaults", "--trust", "--vcs-ref=v0.0.1", "-d", "contact_email=owner@shop.example",
        "-d", "legacy_note=kept-by-user", str(template), str(project), cwd=tmp_path,
    )  # fmt: skip
    git(project, "init", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "generated")

    # v0.0.2: today's questions, and the migrations that carry the answers over.
    for path, text in released.items():
        path.write_text(text)
    script = '"{{ _copier_conf.src_path }}/migrations/answers.py"'
    migrations = (
        "_migrations:\n"
        f"  - version: v0.0.2\n    when: \"{{{{ _stage == 'before' }}}}\"\n"
        f'    command: ["{{{{ _copier_python }}}}", {script}, "rename", "contact_email", "author_email"]\n'
        f"  - version: v0.0.2\n    when: \"{{{{ _stage == 'before' }}}}\"\n"
        f'    command: ["{{{{ _copier_python }}}}", {script}, "remove", "legacy_note"]\n'
    )
    config = template / "copier.yml"
    assert "\n_migrations: []\n" in config.read_text()
    config.write_text(config.read_text().replace("\n_migrations: []\n", "\n" + migrations))
    git(template, "commit", "--quiet", "-am", "contact_email is author_email; legacy_note is gone")
    git(template, "tag", "v0.0.2")

    copier("update", "--defaults", "--trust", "--vcs-ref=v0.0.2", cwd=project)

    answers = (project / ".copier-answers.yml").read_text()
    assert "author_email: owner@shop.example" in answers  # the user's answer, not the default
    assert "contact_email" not in answers and "legacy_note" not in answers
    assert "owner@shop.example" in (project / "pyproject.toml").read_text()
    assert not list(project.rglob("*.rej"))


def test_answers_migration_renames_and_removes_only_top_level_keys():
    from migrations.answers import migrate

    text = (
        "# Changes here will be overwritten by Copier\n_commit: v0.1.0\ncontact_email: a@b.example\n"
        "scopes:\n- read:store\n- write:orders\ncache: memory\n"
    )
    renamed = migrate(text, "rename", ["contact_email", "author_email"])
    assert "author_email: a@b.example\n" in renamed and "contact_email" not in renamed
    assert migrate(renamed, "rename", ["contact_email", "author_email"]) == renamed  # twice: no change
    removed = migrate(text, "remove", ["scopes"])
    assert "scopes" not in removed and "read:store" not in removed and "cache: memory\n" in removed
    assert migrate(text, "remove", ["absent"]) == text
    with pytest.raises(SystemExit):
        migrate(text, "rename", ["only-one"])
