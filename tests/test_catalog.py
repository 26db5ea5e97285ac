"""One source of truth: copier.yml's scope choices agree with the rendered tools table and contract §8."""

from __future__ import annotations

import json

import yaml

from tests.catalog import CONTRACT_TOOLS
from tests.conftest import ROOT, render, run
from tests.test_render import tools_table


def choices() -> dict[str, str]:
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    out = {}
    for label, value in config["scopes"]["choices"].items():
        scope, _, description = label.partition(": ")
        assert scope == value, f"choice label {label!r} does not start with its value {value!r}"
        out[value] = description
    return out


def test_copier_choices_are_the_contract_catalog():
    assert list(choices()) == list(CONTRACT_TOOLS)


def test_rendered_descriptions_and_tools_match_copier_choices(copie, checks_python):
    project = render(copie, scopes=list(CONTRACT_TOOLS))
    table = tools_table(checks_python, project, "whatalo_mcp")
    assert table["scopes"] == choices()
    by_scope: dict[str, list[str]] = {}
    for tool, scope in table["tools"].items():
        by_scope.setdefault(scope, []).append(tool)
    assert by_scope == CONTRACT_TOOLS


def test_the_sandbox_catalog_agrees_with_copier_choices(copie, checks_python):
    """The sandbox emulates Whatalo and keeps its own scope catalog; every choice is in it, in the same words."""
    project = render(copie, scopes=["read:store"])  # the sandbox's catalog does not depend on the answers
    code = "import json; from whatalo_mcp.sandbox.scopes import SCOPES; print(json.dumps(SCOPES))"
    result = run([checks_python, "-c", code], cwd=project, env={"PYTHONPATH": str(project / "src")})
    assert result.returncode == 0, result.stderr
    sandbox = json.loads(result.stdout)
    assert {scope: sandbox.get(scope) for scope in choices()} == choices()
