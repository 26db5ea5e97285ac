"""The tools table: tools/list is exactly the chosen scopes' tools, with schemas and annotations, and
what every tool does alike (one case per tool of this project)."""

from __future__ import annotations

import copy

import pytest

from tests.helpers import MINIMAL_ARGUMENTS, STORE_A, minimal_arguments
from tests.project import CHOSEN_SCOPES, SCOPES, TOOLS, ToolSpec

# The list tools each chosen read scope brings (Whatalo's collections); the other scopes bring none.
LIST_TOOL_OF_SCOPE = {
    "read:products": "list_products",
    "read:categories": "list_categories",
    "read:customers": "list_customers",
    "read:orders": "list_orders",
    "read:discounts": "list_discounts",
    "read:webhooks": "list_webhooks",
}
LIST_TOOLS = [tool for tool in TOOLS if tool.name.startswith("list_")]
NO_LIST_TOOL = (
    "this project's scopes bring no list tool "
    "(test_the_list_tools_are_those_of_the_chosen_scopes checks that it should have none)"
)
EVERY_TOOL = pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)


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
    """Against the scopes chosen when the project was generated, which the tools table must implement."""
    assert {tool.scope for tool in TOOLS} == set(CHOSEN_SCOPES)
    assert set(SCOPES) == set(CHOSEN_SCOPES)
    assert all(description for description in SCOPES.values())


def test_the_list_tools_are_those_of_the_chosen_scopes():
    expected = {LIST_TOOL_OF_SCOPE[scope] for scope in CHOSEN_SCOPES if scope in LIST_TOOL_OF_SCOPE}
    assert {tool.name for tool in LIST_TOOLS} == expected


@pytest.mark.parametrize(
    "tool",
    LIST_TOOLS or [pytest.param(None, marks=pytest.mark.skip(reason=NO_LIST_TOOL))],
    ids=lambda tool: tool.name if tool else "none",
)
def test_list_tools_expose_paging(mcp, mint, sandbox, tool: ToolSpec):
    """``page`` and ``per_page`` as arguments, published with their bounds, and obeyed."""
    assert {"page", "per_page"} <= set(tool.arguments)
    token = mint([tool.scope])
    schema = next(listed for listed in mcp.list_tools(token) if listed["name"] == tool.name)["inputSchema"]
    page, per_page = schema["properties"]["page"], schema["properties"]["per_page"]
    assert (page["type"], page["minimum"]) == ("integer", 1)
    assert (per_page["type"], per_page["minimum"], per_page["maximum"]) == ("integer", 1, 100)
    result = mcp.call(token, tool.name, {"page": 1, "per_page": 1})
    assert not result.is_error, result.text
    pagination = result.data["pagination"]
    assert pagination["per_page"] == 1
    assert len(result.data["data"]) == min(1, pagination["total"])  # one row when there is any
    assert pagination["total_pages"] == pagination["total"]


def test_tool_names_are_unique():
    names = [tool.name for tool in TOOLS]
    assert len(names) == len(set(names))


def test_every_tool_has_minimal_arguments(sandbox):
    """``tests.helpers.MINIMAL_ARGUMENTS`` covers every tool: a tool added without an entry fails here
    (and an entry that does not make a call that runs fails test_each_tool_reports_rate_limit)."""
    missing = [tool.name for tool in TOOLS if tool.name not in MINIMAL_ARGUMENTS]
    assert not missing, f"add these tools to MINIMAL_ARGUMENTS in tests/helpers.py: {missing}"
    for tool in TOOLS:
        assert set(minimal_arguments(tool, sandbox.stores[STORE_A])) <= set(tool.arguments), tool.name


@EVERY_TOOL
def test_each_tool_reports_rate_limit(mcp, mint, sandbox, tool: ToolSpec):
    """Whatalo's 429: a tool error with Whatalo's code and message and the delay ``Retry-After`` gave, after
    one call upstream (not retried) that changed nothing. The same call, made again, runs on the token's store."""
    arguments = minimal_arguments(tool, sandbox.stores[STORE_A])
    token = mint([tool.scope])
    stores = copy.deepcopy(sandbox.stores)
    calls = sandbox.counters.api_calls
    sandbox.fail_next_api_call(429, "RATE_LIMITED", "Rate limit exceeded.", retry_after=45)
    limited = mcp.call(token, tool.name, arguments)
    assert limited.is_error
    assert not sandbox.api_faults, f"the call never reached Whatalo's API: {limited.text}"
    assert sandbox.counters.api_calls == calls + 1
    assert "RATE_LIMITED" in limited.text and "Rate limit exceeded." in limited.text
    assert "45 seconds" in limited.text  # from Retry-After: Whatalo's message names no delay
    assert sandbox.stores == stores
    retried = mcp.call(token, tool.name, arguments)  # also proves the table's entry: the call runs
    assert not retried.is_error, retried.text
    assert {sandbox.tokens[used].store_id for used in sandbox.api_bearer_tokens} == {STORE_A}
