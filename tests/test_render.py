"""Every render: valid answers, no leftover Jinja, only the chosen scopes' code, ruff and mypy clean."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.catalog import CONTRACT_TOOLS, SEED_DEFAULT
from tests.conftest import ROOT, SEED, render, run

ALL = list(CONTRACT_TOOLS)
READ_ONLY = [scope for scope in ALL if scope.startswith("read:")]
_rng = random.Random(SEED)
RANDOM = [sorted(_rng.sample(ALL, _rng.randint(2, 8)), key=ALL.index) for _ in range(3)]

SELECTIONS = {
    "default": None,
    "all": ALL,
    "read-only": READ_ONLY,
    **{f"only-{scope}": [scope] for scope in ALL},
    **{f"random{i}-seed{SEED}": selection for i, selection in enumerate(RANDOM)},
}
FRAMEWORKS = ["mcp", "fastmcp"]
JINJA_LEFTOVER = re.compile(r"\{%|%\}|\{\{\s*[A-Za-z_][\w.]*\s*(\}\}|\|)|\{#")


def scope_module(scope: str) -> str:
    return scope.replace(":", "_")


def tools_table(python: str, project: Path, package: str) -> dict[str, Any]:
    code = (
        f"import json; from {package}.tools import SCOPES, TOOLS; "
        "print(json.dumps({'scopes': SCOPES, 'tools': {t.name: t.scope for t in TOOLS}}))"
    )
    result = run([python, "-c", code], cwd=project, env={"PYTHONPATH": str(project / "src")})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Every scope selection with each framework (in-process cache), and the Redis cache with each
# framework for the default and one random selection.
VARIANTS = [(name, framework, "memory") for name in SELECTIONS for framework in FRAMEWORKS] + [
    (name, framework, "redis") for name in ("default", "random0-seed" + str(SEED)) for framework in FRAMEWORKS
]


@pytest.mark.parametrize("name, framework, cache", VARIANTS, ids=["-".join(v) for v in VARIANTS])
def test_render(copie, checks_python, name, framework, cache):
    selection = SELECTIONS[name]
    answers = {"framework": framework, "cache": cache, **({} if selection is None else {"scopes": selection})}
    project = render(copie, **answers)
    # Copier records a multiselect answer in the order of the choices (the catalog's order).
    chosen = [scope for scope in ALL if scope in (SEED_DEFAULT if selection is None else selection)]
    package = project / "src" / "whatalo_mcp"
    assert package.is_dir()

    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["scopes"] == chosen
    assert recorded["framework"] == framework
    assert recorded["cache"] == cache
    adapter = (package / "framework.py").read_text()
    assert ("from fastmcp import FastMCP" in adapter) == (framework == "fastmcp")
    assert ("from mcp.server.mcpserver import Context, MCPServer" in adapter) == (framework == "mcp")
    backend = (package / "cache_backend.py").read_text()
    assert ("class RedisCache" in backend) == (cache == "redis")
    assert ("-> MemoryCache:" in backend) == (cache == "memory")
    pyproject = (project / "pyproject.toml").read_text()
    assert ('"redis>=' in pyproject) == (cache == "redis") and ('"fastmcp>=' in pyproject) == (framework == "fastmcp")
    everything = "\n".join(p.read_text() for p in project.rglob("*.py"))
    # The gate speaks HTTP; every MCP message (results, tool errors, JSON-RPC errors) is the
    # framework's, shaped for the request's protocol era: no source module writes one by hand.
    source = "\n".join(p.read_text() for p in package.rglob("*.py"))
    hand_written = re.compile(
        r"""["']jsonrpc["']\s*:\s*["']2\.0["']\s*,\s*["']id["']\s*:[^,]*,\s*["'](result|error)["']"""
        r"""|["'](isError|resultType|structuredContent)["']\s*:"""
    )
    assert not hand_written.search(source), f"an MCP message written by hand in src/: {hand_written.search(source)}"
    if cache == "memory":
        assert "redis" not in everything.lower() and "CACHE_ENCRYPTION_KEY" not in everything

    for path in project.rglob("*"):
        if path.is_file() and ".venv" not in path.parts and path.suffix in {".py", ".toml", ".md", ".yml", ".yaml", ""}:
            text = path.read_text(errors="replace")
            assert not JINJA_LEFTOVER.search(text), f"leftover Jinja in {path.relative_to(project)}"
    assert not list(project.rglob("*.jinja"))

    # Only the chosen scopes' modules and tests exist, and no code names an unchosen tool.
    modules = {p.stem for p in (package / "tools").glob("*.py")} - {"__init__", "base"}
    assert modules == {scope_module(s) for s in chosen}
    assert {p.stem for p in (project / "tests" / "tools").glob("test_*.py")} == {
        f"test_{scope_module(s)}" for s in chosen
    }
    core = "\n".join(p.read_text() for p in package.glob("*.py")) + (package / "tools" / "__init__.py").read_text()
    for scope, tools in CONTRACT_TOOLS.items():
        if scope not in chosen:
            assert scope_module(scope) not in core
            for tool in tools:
                assert not re.search(rf"\b{tool}\b", core), f"{tool} appears although {scope} was not chosen"

    # The tools table is exactly the contract's tools for the chosen scopes.
    table = tools_table(checks_python, project, "whatalo_mcp")
    assert list(table["scopes"]) == chosen
    assert table["tools"] == {tool: scope for scope in chosen for tool in CONTRACT_TOOLS[scope]}

    ruff = str(Path(checks_python).parent / "ruff")
    for check in ([ruff, "check", "."], [ruff, "format", "--check", "."]):
        result = run(check, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    mypy = run(
        [checks_python, "-m", "mypy", "--cache-dir", str(Path(checks_python).parent.parent / ".mypy-shared"), "src"],
        cwd=project,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


@pytest.mark.parametrize(
    "answers, words",
    [
        ({"scopes": []}, "at least one scope"),
        ({"project_slug": "Bad Slug"}, "project_slug"),
        ({"package_name": "mcp"}, "package_name"),
    ],
)
def test_invalid_answers_stop_with_a_clear_message(copie, answers, words):
    result = copie.copy(extra_answers=answers)
    assert result.exit_code != 0
    assert words in str(result.exception)


def test_frameworks_differ_only_in_adapter_and_dependencies(copie):
    """Issue: a diff of an mcp render against a fastmcp render shows adapter and dependency lines only."""
    answers = {"scopes": ["read:store", "write:orders"]}
    renders = {framework: render(copie, framework=framework, **answers) for framework in FRAMEWORKS}

    def files(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
        }

    mcp, fastmcp = files(renders["mcp"]), files(renders["fastmcp"])
    assert set(mcp) == set(fastmcp)
    differing = {path for path in mcp if mcp[path] != fastmcp[path]}
    assert differing <= {
        ".copier-answers.yml",
        "README.md",
        "pyproject.toml",
        "scripts/bench.py",  # its floor is the bare framework the render is built on
        "src/whatalo_mcp/framework.py",
        "tests/test_framework.py",
    }, differing

    def changed_lines(path: str) -> list[str]:
        import difflib

        diff = difflib.unified_diff(mcp[path].splitlines(), fastmcp[path].splitlines(), lineterm="", n=0)
        return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]

    assert [line for line in changed_lines("pyproject.toml")] == ['+    "fastmcp>=4.1,<4.2",']
    assert all(line[1:].startswith(("framework:", "_commit:")) for line in changed_lines(".copier-answers.yml"))
    assert len(changed_lines("README.md")) == 2  # the one line that names the framework


@pytest.mark.parametrize(
    "question, choices, adapter",
    [("framework", FRAMEWORKS, "framework.py"), ("cache", ("memory", "redis"), "cache_backend.py")],
)
def test_a_choice_changes_one_source_module_its_adapter(copie, question, choices, adapter):
    """Two renders that differ in one answer differ, under src/, in that answer's adapter alone."""
    answers = {"scopes": ["read:store", "write:orders"]}
    first, second = (render(copie, **answers, **{question: choice}) for choice in choices)

    def sources(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): p.read_text() for p in (root / "src").rglob("*.py")}

    one, other = sources(first), sources(second)
    assert set(one) == set(other)
    assert {path for path in one if one[path] != other[path]} == {f"src/whatalo_mcp/{adapter}"}


def test_custom_names(copie, checks_python):
    project = render(copie, project_name="Acme Store Bot", scopes=["read:store"])
    assert (project / "src" / "acme_store_bot" / "cli.py").is_file()
    pyproject = (project / "pyproject.toml").read_text()
    assert 'acme-store-bot = "acme_store_bot.cli:main"' in pyproject


def test_copier_yml_defaults_are_the_seed_guides_ten():
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert config["scopes"]["default"] == SEED_DEFAULT
