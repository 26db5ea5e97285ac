"""`probe`: the live check of any MCP server as an OAuth resource server.

Against this project's server every check passes (with and without a token, the step-up case with a
narrow token); against the bare MCP SDK server with its own bearer middleware the probe names what
it gets wrong and exits non-zero; a hostile server cannot lure the token to another host; and the
WWW-Authenticate parser the probe relies on reads RFC 9110 syntax.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from tests.helpers import RunningSandbox, RunningServer, run_cli
from tests.project import (
    PACKAGE,
    BackgroundServer,
    ProbeClient,
    TokenGuard,
    cli,
    listening_socket,
    probe_challenges,
    probe_context,
    probe_https_check,
    probe_results,
)

CATALOG = list(probe_results.CATALOG)
NEEDS_TOKEN = probe_results.NEEDS_TOKEN


def probe(url: str, *options: str) -> tuple[int, list[dict[str, str]]]:
    """The command in-process with --json: exit code and results."""
    outcome = CliRunner().invoke(cli.app, ["probe", url, *options, "--json"])
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.output
    return outcome.exit_code, json.loads(outcome.stdout)


def by_id(results: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    assert [result["id"] for result in results] == CATALOG  # every check once, in the documented order
    return {result["id"]: result for result in results}


def statuses(results: list[dict[str, str]]) -> dict[str, str]:
    return {check: result["status"] for check, result in by_id(results).items()}


# -- against this project's server --------------------------------------------


def test_without_a_token_every_check_passes_and_those_needing_one_are_skipped(server: RunningServer):
    code, results = probe(server.mcp_url)
    assert code == 0, results
    seen = statuses(results)
    assert {check for check, status in seen.items() if status == "skip"} == NEEDS_TOKEN
    assert all(seen[check] == "pass" for check in CATALOG if check not in NEEDS_TOKEN), results
    found = by_id(results)
    assert found["metadata.discovery"]["detail"].endswith("(the challenge's resource_metadata)")
    assert found["metadata.resource"]["detail"] == f"{server.resource_url} is a parent of URL"
    assert all(found[check]["detail"] == "needs --token" for check in NEEDS_TOKEN)
    assert all(result["expected"] == probe_results.CATALOG[result["id"]] for result in results)


def test_with_a_narrow_token_the_step_up_checks_run_in_both_eras(probe_server: RunningServer, probe_token, sandbox):
    token = probe_token(["read:products"])  # probe_store (read-only, read:store) is refused
    before = sandbox.counters.api_calls
    code, results = probe(probe_server.mcp_url, "--token", token)
    assert code == 0, results
    assert set(statuses(results).values()) == {"pass"}, results
    found = by_id(results)
    assert found["step_up.modern"]["detail"] == 'tools/call probe_store: 403 insufficient_scope, scope="read:store"'
    assert found["step_up.legacy"]["detail"] == (
        'tools/call probe_store: 403 insufficient_scope, scope="read:products read:store"'
    )
    assert found["tools.list.modern"]["detail"] == "3 tools (protocol 2026-07-28, no session)"
    # Only read-only tools were called, with no arguments: probe_products ran (a read), nothing was written.
    assert sandbox.counters.api_calls - before <= 2
    assert all(token not in result["detail"] for result in results)


def test_a_token_with_every_scope_skips_step_up_without_failing(server: RunningServer, mint):
    code, results = probe(server.mcp_url, "--token", mint())
    assert code == 0, results
    found = by_id(results)
    assert {check for check, r in found.items() if r["status"] != "pass"} == {"step_up.modern", "step_up.legacy"}
    why = found["step_up.modern"]["detail"]
    assert why.startswith("none of the read-only tools tried (") and "a token that lacks the scope" in why
    assert found["step_up.modern"]["status"] == "skip"


def test_text_output_is_one_line_per_check_and_a_summary(server: RunningServer):
    outcome = CliRunner().invoke(cli.app, ["probe", server.mcp_url])
    assert outcome.exit_code == 0, outcome.output
    lines = outcome.stdout.splitlines()
    assert [line.split(" ", 2)[1].rstrip(":") for line in lines[:-1]] == CATALOG
    assert lines[0].startswith("PASS challenge.status: 401, WWW-Authenticate: Bearer ")
    assert "SKIP tools.list.legacy: needs --token" in lines
    assert lines[-1] == f"{len(CATALOG) - len(NEEDS_TOKEN)} passed, 0 failed, {len(NEEDS_TOKEN)} skipped"


def test_the_console_command_reads_the_token_from_the_environment(probe_server: RunningServer, probe_token):
    token = probe_token(["read:products"])
    done = run_cli("probe", probe_server.mcp_url, env={"MCP_PROBE_TOKEN": token})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS step_up.legacy: tools/call probe_store: 403" in done.stdout
    assert token not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mcp.example.com/mcp", "URL must be an absolute http:// or https:// URL"),
        ("ftp://mcp.example.com/mcp", "URL must be an absolute http:// or https:// URL"),
        ("https://mcp.example.com/mcp#x", "URL must not have a fragment"),
    ],
)
def test_a_url_that_cannot_be_probed_is_one_error_line_and_exit_2(url: str, message: str):
    outcome = CliRunner().invoke(cli.app, ["probe", url])
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith(f"error: {message}")
    assert outcome.stdout == ""


def test_nothing_listening_fails_the_first_check_and_the_run(free_url: str):
    code, results = probe(free_url)
    assert code == 1
    found = by_id(results)
    assert found["challenge.status"]["status"] == "fail"
    assert found["challenge.status"]["detail"].startswith("cannot reach 127.0.0.1: ConnectError")


@pytest.fixture
def free_url() -> str:
    with listening_socket() as sock:
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mcp"


# -- against the bare MCP SDK server --------------------------------------------


class StaticVerifier:
    """The SDK's TokenVerifier over a fixed table of tokens."""

    def __init__(self, tokens: dict[str, AccessToken]) -> None:
        self.tokens = tokens

    async def verify_token(self, token: str) -> AccessToken | None:
        return self.tokens.get(token)


@pytest.fixture
def bare_sdk_server(sandbox_server: RunningSandbox) -> Iterator[tuple[str, str, str]]:
    """The MCP SDK's own ``MCPServer`` with its bearer middleware (stateful, SSE answers), on 127.0.0.1:
    its MCP URL, a token it accepts, and one without the scope (``read``) it requires of every call."""
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    token, unscoped = "bare-" + "x" * 24, "bare-unscoped-" + "y" * 16
    verifier = StaticVerifier(
        {
            token: AccessToken(token=token, client_id="probe-test", scopes=["read"], resource=url),
            unscoped: AccessToken(token=unscoped, client_id="probe-test", scopes=[], resource=url),
        }
    )
    auth = AuthSettings(
        issuer_url=sandbox_server.state.issuer,
        resource_server_url=url,
        required_scopes=["read"],
        validate_token_resource=True,
    )
    server = MCPServer("bare", token_verifier=verifier, auth=auth)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def shout(text: str) -> str:
        """Upper-case a text."""
        return text.upper()

    with BackgroundServer(server.streamable_http_app(), sock=sock):
        yield url, token, unscoped


def test_the_bare_sdk_server_fails_where_it_departs_from_the_specifications(bare_sdk_server):
    url, token, _ = bare_sdk_server
    code, results = probe(url, "--token", token)
    assert code == 1
    found = by_id(results)
    failures = {check for check, result in found.items() if result["status"] == "fail"}
    # Its 401 says error="invalid_token" without credentials and names no scope (RFC 6750 §3.1,
    # MCP's scope selection), and of two Authorization headers it takes the first.
    assert failures == {"challenge.scope", "challenge.no_error", "challenge.other_scheme", "header.duplicate"}
    assert found["challenge.no_error"]["detail"].startswith("the challenge has error, error_description: 401, ")
    assert 'error="invalid_token"' in found["challenge.no_error"]["detail"]
    assert found["challenge.scope"]["detail"] == "no scope parameter"
    assert "(accepted)" in found["header.duplicate"]["detail"]
    # What it does right passes: its metadata, its issuer, the query token, both eras' tools/list.
    for check in ("metadata.discovery", "metadata.location", "as.metadata", "query.token", "header.syntax"):
        assert found[check]["status"] == "pass", found[check]
    assert found["tools.list.legacy"]["detail"] == "1 tool (protocol 2025-11-25, session)"
    assert found["tools.list.modern"]["status"] == "pass"
    # Every call needs its one scope, which the token holds: nothing to refuse, so step-up is skipped.
    assert found["step_up.modern"]["status"] == "skip"


def test_the_bare_sdk_servers_403_names_no_scope(bare_sdk_server):
    url, _, unscoped = bare_sdk_server
    code, results = probe(url, "--token", unscoped)
    assert code == 1
    found = by_id(results)
    for era in ("modern", "legacy"):
        detail = found[f"step_up.{era}"]["detail"]
        assert found[f"step_up.{era}"]["status"] == "fail"
        assert detail.startswith(("tools/list: 403, but no scope parameter", "initialize: 403, but no scope parameter"))
        assert 'error="insufficient_scope", error_description="Required scope: read"' in detail


# -- the token goes to URL only --------------------------------------------------


class Recorder:
    """Every request a server got: method, URL, headers and body, as text."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def record(self, request: Request) -> None:
        body = (await request.body()).decode("latin-1")
        headers = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
        self.requests.append(f"{request.method} {request.url}\n{headers}\n\n{body}")


def lure(recorder: Recorder, other: Callable[[], str]) -> Starlette:
    """An MCP endpoint that points its challenge, metadata and authorization server at ``other()``,
    redirects every request carrying credentials there, and echoes them."""

    async def mcp(request: Request) -> Response:
        await recorder.record(request)
        sent = request.headers.get("authorization", "") + request.url.query
        if sent and b"tools/list" in await request.body():
            return JSONResponse({"you_sent": sent}, status_code=400)  # the echo the probe shows, redacted
        if sent:
            headers = {"Location": other() + "/mcp", "X-You-Sent": sent}
            return JSONResponse({"you_sent": sent}, status_code=307, headers=headers)
        challenge = f'Bearer resource_metadata="{other()}/.well-known/oauth-protected-resource", scope="read"'
        return JSONResponse({}, status_code=401, headers={"WWW-Authenticate": challenge})

    async def elsewhere(request: Request) -> Response:
        await recorder.record(request)
        return Response(status_code=302, headers={"Location": other() + request.url.path})

    return Starlette(routes=[Route("/mcp", mcp, methods=["POST", "GET", "DELETE"]), Route("/{p:path}", elsewhere)])


def elsewhere_app(recorder: Recorder, endpoint: Callable[[], str]) -> Starlette:
    """Metadata and an authorization server on another port, recording everything it gets."""

    async def any_path(request: Request) -> Response:
        await recorder.record(request)
        origin = str(request.base_url).rstrip("/")
        if request.url.path == "/.well-known/oauth-protected-resource":
            document: dict[str, Any] = {"resource": endpoint(), "authorization_servers": [origin]}
            return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})
        if request.url.path == "/.well-known/oauth-authorization-server":
            return JSONResponse({"issuer": origin, "code_challenge_methods_supported": ["S256"]})
        return JSONResponse({"echo": request.headers.get("authorization")}, status_code=200)

    return Starlette(routes=[Route("/{p:path}", any_path, methods=["GET", "POST", "OPTIONS", "DELETE"])])


def test_the_token_never_reaches_another_host_even_when_lured(secrets_seen: set[str]):
    token = "canary-" + "t0k3n" * 8
    secrets_seen.add(token)
    at_url, elsewhere = Recorder(), Recorder()
    other_sock, url_sock = listening_socket(), listening_socket()
    other_url = f"http://127.0.0.1:{other_sock.getsockname()[1]}"
    url = f"http://127.0.0.1:{url_sock.getsockname()[1]}/mcp"
    with (
        BackgroundServer(elsewhere_app(elsewhere, lambda: url), sock=other_sock),
        BackgroundServer(lure(at_url, lambda: other_url), sock=url_sock),
    ):
        outcome = CliRunner().invoke(cli.app, ["probe", url, "--token", token])
    assert outcome.exit_code == 1
    assert any(token in request for request in at_url.requests)  # URL got it, as the user asked
    assert elsewhere.requests, "the metadata and authorization server were read"
    assert not [request for request in elsewhere.requests if token in request or token[:12] in request]
    assert token not in outcome.output and token[:12] not in outcome.output  # echoed back, but never shown
    assert "[the token]" in outcome.output


def test_over_plain_http_off_loopback_the_token_is_withheld(monkeypatch, secrets_seen: set[str]):
    """The probe's rule for URL's host, with loopback taken for a remote host: the token stays home."""
    monkeypatch.setattr(sys.modules[f"{PACKAGE}.probe.runner"], "is_loopback", lambda host: False)
    token = "withheld-" + "t0k3n" * 8
    secrets_seen.add(token)
    at_url, elsewhere = Recorder(), Recorder()
    other_sock, url_sock = listening_socket(), listening_socket()
    url = f"http://127.0.0.1:{url_sock.getsockname()[1]}/mcp"
    other_url = f"http://127.0.0.1:{other_sock.getsockname()[1]}"
    with (
        BackgroundServer(elsewhere_app(elsewhere, lambda: url), sock=other_sock),
        BackgroundServer(lure(at_url, lambda: other_url), sock=url_sock),
    ):
        code, results = probe(url, "--token", token)
    assert code == 1
    assert not [request for request in at_url.requests + elsewhere.requests if token in request]
    found = by_id(results)
    for check in NEEDS_TOKEN:
        assert found[check] == {
            "id": check,
            "status": "skip",
            "detail": "the token is not sent over plain http:// to a host off loopback",
            "expected": probe_results.CATALOG[check],
        }


def test_transport_https_names_every_plain_url_off_loopback():
    client = ProbeClient("https://mcp.example.com/mcp", None)
    ctx = probe_context.Context(url="https://mcp.example.com/mcp", token=None, client=client)
    ctx.see_url("resource", "https://mcp.example.com")
    ctx.see_url("authorization server", "http://auth.example.com")
    ctx.see_url("authorization server token_endpoint", "http://auth.example.com/token")
    ctx.see_url("authorization server jwks_uri", "http://127.0.0.1:9000/jwks")  # loopback: allowed
    result = probe_https_check(ctx)
    assert (result.status.value, result.detail) == (
        "fail",
        "not https: authorization server http://auth.example.com; "
        "authorization server token_endpoint http://auth.example.com/token",
    )
    anyio.run(client.aclose)


def test_the_client_refuses_to_send_the_token_anywhere_but_the_endpoint():
    async def main() -> None:
        client = ProbeClient("http://127.0.0.1:9/mcp", "s3cr3t-token-value")
        try:
            with pytest.raises(TokenGuard):
                await client.get("http://127.0.0.1:9/.well-known/x", [("Authorization", "Bearer s3cr3t-token-value")])
            with pytest.raises(TokenGuard):
                await client.get("http://127.0.0.1:9/other?access_token=s3cr3t-token-value")
            assert client.requests == 0  # refused before anything was sent
        finally:
            await client.aclose()

    anyio.run(main)


def test_a_server_that_never_answers_is_given_up_on_in_bounded_time(monkeypatch):
    module = sys.modules[ProbeClient.__module__]
    monkeypatch.setattr(module, "REQUEST_SECONDS", 0.3)
    monkeypatch.setattr(module, "TOTAL_SECONDS", 1.5)
    with listening_socket() as sock:
        sock.listen(16)  # connections complete in the backlog, and nothing ever answers them
        started = time.monotonic()
        code, results = probe(f"http://127.0.0.1:{sock.getsockname()[1]}/mcp", "--token", "t0ken-" + "x" * 20)
        elapsed = time.monotonic() - started
    assert code == 1
    assert elapsed < 5
    found = by_id(results)
    assert found["challenge.status"]["detail"] == "no answer from 127.0.0.1 within 0.3 s"
    assert any(result["detail"].startswith("not run: the probe's limit") for result in results)


def test_the_number_of_requests_is_capped(server: RunningServer, mint, monkeypatch):
    monkeypatch.setattr(sys.modules[ProbeClient.__module__], "MAX_REQUESTS", 5)
    code, results = probe(server.mcp_url, "--token", mint(["read:store"]))
    assert code == 1
    found = by_id(results)
    assert found["challenge.other_scheme"]["status"] == "pass"  # requests 1 and 2
    assert found["header.empty"]["detail"] == "not run: the probe's limit of 5 requests or 60 s was reached"


# -- the WWW-Authenticate parser -------------------------------------------------


def test_the_parser_reads_several_challenges_quoted_strings_and_token68():
    parsed = probe_challenges.parse_challenges(
        [
            'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
            'bearer Error="invalid_token", scope="a b", resource_metadata="https://h/.well-known/x, y"',
            "Negotiate YIIB+w==",
        ]
    )
    assert [(c.scheme, c.params, c.token68) for c in parsed] == [
        ("Newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}, None),
        ("Basic", {"realm": "simple"}, None),
        ("bearer", {"error": "invalid_token", "scope": "a b", "resource_metadata": "https://h/.well-known/x, y"}, None),
        ("Negotiate", {}, "YIIB+w=="),
    ]
    assert probe_challenges.bearer_challenge(['Basic realm="x", Bearer scope="s"']).params == {"scope": "s"}


def test_the_parser_records_a_repeated_parameter():
    (challenge,) = probe_challenges.parse_challenges(['Bearer scope="a", Scope="b"'])
    assert challenge.repeated == {"scope"}
    assert challenge.params == {"scope": "a"}


@pytest.mark.parametrize("value", ['Bearer "quoted"', "=x", 'Bearer scope="unterminated', "Bearer a=b c"])
def test_the_parser_refuses_what_is_not_rfc_9110_syntax(value: str):
    with pytest.raises(probe_challenges.ChallengeSyntaxError):
        probe_challenges.parse_challenges([value])


def test_every_check_says_what_it_wants():
    assert NEEDS_TOKEN <= set(CATALOG)
    assert all(len(expected) > 20 for expected in probe_results.CATALOG.values())
