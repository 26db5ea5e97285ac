"""One source of truth: copier.yml's scope choices agree with the rendered tools table and contract §8."""

from __future__ import annotations

import yaml

from tests.catalog import CONTRACT_TOOLS
from tests.conftest import ROOT, render
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
