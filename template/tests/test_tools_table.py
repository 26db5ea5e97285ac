"""Contract §8: tools/list is exactly the chosen scopes' tools, with schemas and annotations."""

from __future__ import annotations

from tests.project import SCOPES, TOOLS


def test_tools_list_matches_the_table(mcp, mint):
    listed = {tool["name"]: tool for tool in mcp.list_tools(mint())}
    assert set(listed) == {tool.name for tool in TOOLS}
    for spec in TOOLS:
        tool = listed[spec.name]
        assert tool["description"] and len(tool["description"]) > 40
        assert tool["inputSchema"]["type"] == "object"
        annotations = tool["annotations"]
        assert annotations["readOnlyHint"] is spec.read_only
        assert annotations["destructiveHint"] is spec.destructive
        assert annotations["idempotentHint"] is spec.idempotent
        if spec.read_only:
            assert not spec.destructive


def test_unknown_arguments_are_a_tool_error_naming_them(mcp, mint, sandbox):
    """Every framework answers alike: an argument a tool does not take is refused, nothing is sent."""
    for spec in TOOLS:
        before = sandbox.counters.api_calls
        result = mcp.call(mint([spec.scope]), spec.name, {"store_id": "str_other", "surprise": 1})
        assert result.is_error, spec.name
        takes = ", ".join(spec.arguments) or "no arguments"
        assert result.text == f"{spec.name}: unknown argument(s) store_id, surprise; it takes {takes}"
        assert sandbox.counters.api_calls == before


def test_every_tool_has_a_chosen_scope_and_every_scope_a_tool():
    assert {tool.scope for tool in TOOLS} == set(SCOPES)
    assert all(description for description in SCOPES.values())


def test_list_tools_expose_paging():
    for tool in TOOLS:
        if tool.name.startswith("list_"):
            parameters = tool.fn.__annotations__
            assert {"page", "per_page"} <= set(parameters), tool.name


def test_tool_names_are_unique():
    names = [tool.name for tool in TOOLS]
    assert len(names) == len(set(names))
