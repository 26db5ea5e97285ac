"""Properties over generated inputs (hypothesis): headers, tool arguments, tenant isolation."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers import MCP_HEADERS, STORE_A, STORE_B, McpClient, raw_request
from tests.project import TOOLS

RAW_HEADERS = [(name.encode(), value.encode()) for name, value in MCP_HEADERS.items()]
LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).encode()
FIXTURES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
B64TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

# Header values: anything a client could send on one line (no CR/LF), biased towards near-misses.
header_bytes = st.one_of(
    st.binary(max_size=200).filter(lambda b: b"\r" not in b and b"\n" not in b),
    st.builds(
        lambda scheme, sep, token: scheme + sep + token,
        st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"Basic", b"Bearer,", b""]),
        st.sampled_from([b" ", b"  ", b"\t", b"", b" , "]),
        st.binary(max_size=120).filter(lambda b: b"\r" not in b and b"\n" not in b),
    ),
)


@FIXTURES
@given(value=header_bytes)
@example(value=b"Bearer 0 ")  # HTTP drops a header value's surrounding spaces and tabs: a well-formed token
@example(value=b" Bearer 0\t")
@example(value=b"Bearer 0 0")
def test_authorization_header_never_500_never_echoed(mcp, sandbox, value):
    before = sandbox.counters.introspections
    status, headers, body = raw_request(mcp.url, [*RAW_HEADERS, (b"Authorization", value)], LIST)
    assert status in (400, 401, 403, 503), status  # never a 500, never a 200 for a token nobody issued
    token = value.split(b" ", 1)[-1].strip()
    if len(token) >= 8:  # error texts never quote the token back
        assert token not in body and token.decode("latin-1") not in headers.get("www-authenticate", "")
    sent = value.strip(b" \t")  # what the server receives (RFC 9110 §5.5)
    rest = sent[7:].lstrip(b" ")
    syntactically_bearer = sent[:7].lower() == b"bearer " and rest and all(c in B64TOKEN_BYTES for c in rest)
    if not syntactically_bearer:
        assert sandbox.counters.introspections == before  # malformed headers never reach the AS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a JSON Schema (as the frameworks publish tool inputs) describes; strings and arrays kept short."""
    if "anyOf" in schema:
        return st.one_of([from_schema(branch) for branch in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
        text = st.from_regex(schema["pattern"]) if "pattern" in schema else st.text(max_size=high)
        return text.map(lambda value: value[:high]).filter(lambda value: len(value) >= low)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 3), 3))
    return json_values


def arguments_for(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments a tool's schema accepts, the required ones always; one value in ten of any JSON type."""
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    value = {name: st.one_of(*[from_schema(prop)] * 9, json_values) for name, prop in properties.items()}
    return st.fixed_dictionaries(
        {name: value[name] for name in properties if name in required},
        optional={name: value[name] for name in properties if name not in required},
    )


@dataclass(frozen=True)
class Caller:
    """A token with every scope, and the input schema of every tool as tools/list publishes it."""

    token: str
    schemas: dict[str, dict[str, Any]]


@pytest.fixture
def caller(mcp, mint) -> Caller:
    token = mint()
    return Caller(token=token, schemas={tool["name"]: tool["inputSchema"] for tool in mcp.list_tools(token)})


@FIXTURES
@given(data=st.data())
def test_tool_arguments_never_500_never_a_crash_never_echo_the_token(mcp, caller, log_capture, data):
    """Whatever the arguments, a call answers: a result, or a tool error that says what is wrong."""
    token = caller.token
    tool = data.draw(st.sampled_from(TOOLS))
    arguments = data.draw(arguments_for(caller.schemas[tool.name]))
    logged = len(log_capture.lines)
    response = mcp.post(mcp.message("tools/call", {"name": tool.name, "arguments": arguments}), token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "result" in body or "error" in body
    # A tool that crashed logs its exception at ERROR (with either framework); refused arguments and
    # Whatalo API errors are tool errors the model can act on, not crashes.
    crashes = [line for line in log_capture.lines[logged:] if line.startswith(("ERROR", "CRITICAL"))]
    assert not crashes, crashes
    assert token not in response.text


actions = st.lists(
    st.tuples(st.sampled_from([STORE_A, STORE_B]), st.sampled_from(["read", "write own", "write other"])),
    min_size=2,
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_tenant_isolation_under_random_interleavings(probe_server, probe_token, sandbox, steps):
    """On the probe server: ``probe_store`` reads the token's store, ``probe_rename`` renames a product."""
    client = McpClient(probe_server.url)
    tokens = {store: probe_token(store_id=store) for store in (STORE_A, STORE_B)}
    products = {store: next(iter(sandbox.stores[store].products)) for store in (STORE_A, STORE_B)}
    other = {STORE_A: STORE_B, STORE_B: STORE_A}

    def run(step: tuple[str, str]) -> tuple[str, str, Any]:
        store, action = step
        if action == "read":
            return store, action, client.call(tokens[store], "probe_store")
        target = products[store] if action == "write own" else products[other[store]]
        arguments = {"product_id": target, "name": f"by {store}"}
        return store, action, client.call(tokens[store], "probe_rename", arguments)

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(run, steps))
    client.close()
    for store, action, result in outcomes:
        if action == "read":
            assert not result.is_error and result.data["data"]["id"] == store
        elif action == "write own":
            assert not result.is_error, result.text
        else:
            assert result.is_error and "NOT_FOUND" in result.text
    for store in (STORE_A, STORE_B):  # nobody ever renamed another store's product
        name = sandbox.stores[store].products[products[store]]["name"]
        assert name.startswith("by ") is False or name == f"by {store}"
