"""LOG-01/02: logs name the store and a token fingerprint, never a token or a secret."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import quote

from tests.helpers import MCP_HEADERS, STORE_A, TOOLS_LIST, minimal_arguments
from tests.project import TOOLS


def forms(token: str) -> list[str]:
    return [token, quote(token, safe=""), base64.b64encode(token.encode()).decode()]


def test_log_01_canary_token_never_logged(mcp, mint, sandbox, log_capture, sandbox_server, telemetry_capture):
    start = len(log_capture.lines)
    canary = mint()
    revoked = mint()
    sandbox.revoke(revoked)
    mcp.post(TOOLS_LIST, canary)
    mcp.post(TOOLS_LIST, revoked)
    mcp.http.post(mcp.url + "?access_token=" + canary, content=json.dumps(TOOLS_LIST), headers=MCP_HEADERS)
    mcp.http.post(mcp.url, content=json.dumps(TOOLS_LIST), headers={**MCP_HEADERS, "Cookie": f"access_token={canary}"})
    mcp.http.post(
        mcp.url, content=json.dumps(TOOLS_LIST), headers={**MCP_HEADERS, "Authorization": f"Bearer {canary} x"}
    )
    tool = TOOLS[0]
    arguments = minimal_arguments(tool, sandbox.stores[STORE_A])
    assert not mcp.call(canary, tool.name, arguments).is_error
    sandbox.fail_next_api_call(500, "INTERNAL", "boom")
    assert mcp.call(canary, tool.name, arguments).is_error
    assert not sandbox.api_faults  # the failing call reached Whatalo's API: its error path was logged too
    # The log, and everything exported: every span (attributes, events) and the metrics page.
    text = "\n".join(log_capture.lines[start:] + telemetry_capture.texts())
    secret = sandbox_server.client_secret
    for value in [*forms(canary), *forms(revoked), *forms(secret), *sandbox.api_bearer_tokens]:
        assert value not in text


def test_log_02_refusals_carry_a_fingerprint(mcp, sandbox, mint, log_capture):
    start = len(log_capture.lines)
    token = mint()
    sandbox.revoke(token)
    assert mcp.post(TOOLS_LIST, token).status_code == 401
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:8]
    assert any(fingerprint in line for line in log_capture.lines[start:])


def test_log_02_allowed_requests_are_audited(mcp, mint, log_capture):
    start = len(log_capture.lines)
    token = mint()
    assert mcp.post(TOOLS_LIST, token).status_code == 200
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:8]
    audit = [line for line in log_capture.lines[start:] if "POST /mcp allowed" in line]
    assert audit and audit[0].startswith("INFO")
    assert f"store={STORE_A} token={fingerprint}" in audit[0] and "sub=usr_" in audit[0]


def test_tool_logs_carry_store_and_fingerprint(mcp, mint, sandbox, log_capture):
    start = len(log_capture.lines)
    token = mint()
    sandbox.fail_next_api_call(429, "RATE_LIMITED", "slow down", retry_after=3)
    assert mcp.call(token, TOOLS[0].name, minimal_arguments(TOOLS[0], sandbox.stores[STORE_A])).is_error
    assert not sandbox.api_faults  # the tool ran and met Whatalo's error
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:8]
    # The records of this call: the audit line and the framework's line about the tool's failure.
    # (A record another request's background task writes meanwhile carries that request's context.)
    lines = [line for line in log_capture.lines[start:] if "POST /mcp allowed" in line or f"'{TOOLS[0].name}'" in line]
    assert len(lines) >= 2, lines
    assert all(f"store={STORE_A} token={fingerprint}" in line for line in lines), lines
