"""The command line: ``serve``, ``dev``, ``sandbox``, ``check``, ``tools`` and ``probe``.

Every failure is one plain line on stderr and a non-zero exit; ``--debug``
(before the command) shows the traceback of an unexpected one.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import PROJECT_NAME
from .settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from .checks import Problem
    from .devstack import RunningSandbox

app = typer.Typer(
    help=f"{PROJECT_NAME}: an MCP server for Whatalo stores (OAuth 2.1 resource server).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

REGISTRATIONS_PER_HOUR = 10  # Whatalo's limit on dynamic client registrations per IP address
REGISTRATIONS = typer.Option(
    help="Dynamic client registrations the sandbox accepts per address and hour (Whatalo: 10).", min=1
)
_debug = False

# What each setting is for, shown by `check` under a problem with it.
CREDENTIALS = (
    "WHATALO_CLIENT_ID and WHATALO_CLIENT_SECRET are this server's own confidential client at Whatalo "
    "(for introspection and token exchange), not the MCP host's"
)
SETTING_HELP = {
    "WHATALO_ISSUER": "WHATALO_ISSUER is the authorization server's issuer: https://app.whatalo.com in production",
    "WHATALO_CLIENT_ID": CREDENTIALS,
    "WHATALO_CLIENT_SECRET": CREDENTIALS,
    "MCP_RESOURCE_URL": (
        "MCP_RESOURCE_URL is the public URL MCP clients reach this server at; Whatalo's tokens must name it"
    ),
    "INTROSPECTION_CACHE_TTL": "Whatalo allows reusing an active introspection result for 60 seconds at most",
    "CACHE_URL": "CACHE_URL is where introspection results and exchanged tokens are cached",
}


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.callback()
def options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")] = False,
) -> None:
    global _debug
    _debug = debug


@contextmanager
def step(label: str) -> Iterator[None]:
    """``label... ok`` on one line, so a slow step shows what it waits for."""
    typer.echo(f"{label}... ", nl=False)
    try:
        yield
    except BaseException:
        typer.echo("failed")
        raise
    typer.echo("ok")


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise fail(f"configuration: {exc}", 2) from None


def _listen(host: str, port: int, option: str) -> socket.socket:
    from .serving import listening_socket

    try:
        sock = listening_socket(host, port)
        sock.listen(2048)  # from now on connections wait in the backlog until the server accepts them
        return sock
    except OSError as exc:
        raise fail(
            f"cannot listen on {host}:{port} ({exc.strerror}); free the port or choose another with {option}"
        ) from None


def _serve(settings: Settings, sock: socket.socket, metrics_sock: socket.socket | None = None) -> None:
    import uvicorn

    from .app import Components, create_app
    from .cache_backend import startup_problem
    from .log import configure_logging
    from .serving import GRACEFUL_SECONDS, GracefulServer
    from .telemetry_setup import TelemetryError, configure

    problem = asyncio.run(startup_problem(settings))  # a cache that refuses this server; an outage is no problem
    if problem is not None:
        raise fail(problem, 2)
    configure_logging(settings.log_level, settings.log_format)
    try:
        telemetry = configure(settings.metrics_port)
    except TelemetryError as exc:
        raise fail(f"configuration: {exc}", 2) from None
    app = create_app(settings)
    components: Components = app.state.components

    def drain() -> None:
        components.draining = True

    config = uvicorn.Config(
        app,
        host=settings.mcp_host,
        port=settings.mcp_port,
        log_config=None,
        access_log=False,  # access lines would carry query strings; the app logs what matters
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,  # whose X-Forwarded-For names the client
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    if telemetry is not None and metrics_sock is not None:
        telemetry.serve_metrics(metrics_sock)
    # The pending spans and metrics go out once the server has stopped: inside uvicorn's shutdown,
    # since a re-raised SIGINT ends the process right after it.
    on_stopped = telemetry.shutdown if telemetry is not None else None
    server = GracefulServer(
        config, drain_seconds=settings.shutdown_drain_seconds, on_drain=drain, on_stopped=on_stopped
    )
    try:
        server.run(sockets=[sock])
    finally:
        if telemetry is not None:
            telemetry.shutdown()


@app.command()
def serve() -> None:
    """Run the MCP server with the configuration from the environment and .env."""
    settings = _settings()
    sock = _listen(settings.mcp_host, settings.mcp_port, "MCP_PORT")
    metrics = (
        None if settings.metrics_port is None else _listen(settings.mcp_host, settings.metrics_port, "METRICS_PORT")
    )
    _serve(settings, sock, metrics)


@app.command()
def check() -> None:
    """Check the configuration and Whatalo: discovery, issuer, introspection credentials, cache."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo("configuration (environment and .env)... failed")
        for problem in exc.problems:
            _problem(problem, SETTING_HELP.get(problem.split(" ", 1)[0].rstrip(":"), ""), label="why")
        raise typer.Exit(2) from None
    typer.echo(f"configuration: ok (resource {settings.mcp_resource_url}, issuer {settings.whatalo_issuer})")
    # check explains each problem itself; the modules' log records are for a running server's log.
    logging.getLogger(__package__).addHandler(logging.NullHandler())
    problems = asyncio.run(_run_checks(settings))
    for problem, hint in problems:
        _problem(problem, hint)
    if problems:
        raise typer.Exit(1)
    typer.secho("all checks passed", fg=typer.colors.GREEN)


def _problem(problem: str, hint: str, label: str = "fix") -> None:
    typer.secho(f"problem: {problem}", fg=typer.colors.RED, err=True)
    if hint:
        typer.echo(f"  {label}: {hint}", err=True)


async def _run_checks(settings: Settings) -> list[Problem]:
    """Each step's line as it completes, and every problem found."""
    from .checks import run_checks

    problems = []
    async for step in run_checks(settings):
        typer.echo(f"{step.label}... {step.outcome}")
        problems += step.problems
    return problems


@app.command()
def tools() -> None:
    """List the tools this server serves, with the scope each needs and its annotations."""
    from .tools import SCOPES, TOOLS

    for scope, description in SCOPES.items():
        typer.echo(f"{scope}: {description}")
        for tool in (t for t in TOOLS if t.scope == scope):
            flags = [
                name
                for name, on in (
                    ("read-only", tool.read_only),
                    ("destructive", tool.destructive),
                    ("idempotent", tool.idempotent),
                )
                if on
            ]
            typer.echo(f"  {tool.name:<22} {', '.join(flags)}")


@app.command()
def probe(
    url: Annotated[
        str, typer.Argument(help="The MCP endpoint, as given to a client (e.g. https://mcp.example.com/mcp).")
    ],
    token: Annotated[
        str | None,
        typer.Option(
            help="An access token for URL: adds the checks of tools/list and step-up (sent to URL only).",
            envvar="MCP_PROBE_TOKEN",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as a JSON list.")] = False,
) -> None:
    """Check any deployed MCP server from the outside as an OAuth resource server; exit 0 when no check fails."""
    from .probe.report import as_json, exit_code, line, summary
    from .probe.results import Result, Status
    from .probe.runner import endpoint_problem, run_probe

    problem = endpoint_problem(url)
    if problem:
        raise fail(problem, 2)
    colors = {Status.PASS: typer.colors.GREEN, Status.FAIL: typer.colors.RED, Status.SKIP: typer.colors.YELLOW}

    async def run() -> list[Result]:
        results = []
        async for result in run_probe(url, token):
            results.append(result)
            if not json_output:
                typer.secho(line(result), fg=colors[result.status])
        return results

    results = asyncio.run(run())
    typer.echo(as_json(results) if json_output else summary(results))
    raise typer.Exit(exit_code(results))


def _require_sandbox() -> None:
    """``dev`` and ``sandbox`` need the sandbox package, which the production image leaves out."""
    if importlib.util.find_spec(f"{__package__}.sandbox") is None:
        invoked = Path(sys.argv[0]).name
        command = f"python -m {__package__}" if invoked == "__main__.py" else invoked
        raise fail(
            "the Whatalo sandbox is for development and is not in this build (the production image leaves it "
            f"out); run it from a checkout of the project: uv sync, then uv run {command} dev"
        )


def _start_sandbox(host: str, port: int, option: str, registrations_per_hour: int) -> RunningSandbox:
    from .devstack import start_sandbox

    sock = _listen(host, port, option)
    with step(f"starting the Whatalo sandbox on {host}:{port}"):
        return start_sandbox(sock, registrations_per_hour)


def _print_tokens(sandbox: RunningSandbox, resource_url: str, scopes: list[str] | None = None) -> None:
    described = "every scope of this project" if scopes is None else " ".join(scopes)
    typer.echo(f"\nReady Bearer tokens ({described}; valid 12 h), to skip the sign-in:")
    for ready in sandbox.ready_tokens(resource_url, scopes):
        typer.echo(f"  {ready.store_name} ({ready.store_id}):\n    {ready.token}")


def _wait_for_ctrl_c() -> None:
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the sandbox.", min=1, max=65535)] = 9000,
    resource_url: Annotated[str, typer.Option(help="The MCP server's MCP_RESOURCE_URL (audience of the tokens).")] = (
        "http://localhost:8000"
    ),
    scope: Annotated[
        list[str] | None, typer.Option(help="Scope of the printed tokens (repeat it); default: every scope.")
    ] = None,
    registrations_per_hour: Annotated[int, REGISTRATIONS] = REGISTRATIONS_PER_HOUR,
) -> None:
    """Run the local Whatalo sandbox (authorization server + REST API) alone."""
    _require_sandbox()
    running = _start_sandbox(host, port, "--port", registrations_per_hour)
    try:
        typer.echo(f"\nWhatalo sandbox on {running.server.url}. Configure the MCP server with:\n")
        typer.echo(f"  WHATALO_ISSUER={running.state.issuer}\n  WHATALO_API_URL={running.state.api_url}")
        typer.echo(f"  WHATALO_CLIENT_ID={running.client_id}\n  WHATALO_CLIENT_SECRET={running.client_secret}")
        typer.echo(f"  MCP_RESOURCE_URL={resource_url}")
        _print_tokens(running, resource_url, scope)
        typer.echo("\nCtrl-C stops the sandbox.")
        _wait_for_ctrl_c()
    finally:
        running.stop()
        typer.echo("sandbox stopped")


def connect_instructions(mcp_url: str) -> str:
    """How to connect real MCP clients to ``mcp_url`` through the sandbox's OAuth flow."""
    return (
        "\nConnect an MCP client (each signs in through the sandbox: it registers itself, opens the\n"
        "consent page in your browser, you pick a demo store and approve the permissions):\n"
        f"  MCP Inspector:  npx @modelcontextprotocol/inspector@2.12.0 --transport http --server-url {mcp_url}\n"
        "                  (Node.js 22.19+), then flip the server card's switch to connect.\n"
        '  Claude Desktop: in claude_desktop_config.json, under "mcpServers":\n'
        f'                  "whatalo": {{"command": "npx", "args": ["-y", "mcp-remote", "{mcp_url}"]}}\n'
        "  Without sign-in, send a ready token below as 'Authorization: Bearer <token>', e.g.:\n"
        f"    curl -s {mcp_url} -H 'Authorization: Bearer <token>' \\\n"
        "      -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\\n"
        """      -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'\n"""
    )


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the MCP server.", min=1, max=65535)] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port of the Whatalo sandbox.", min=1, max=65535)] = 9000,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Port of the Prometheus /metrics endpoint [default: the MCP port + 1]", min=1, max=65535),
    ] = None,
    registrations_per_hour: Annotated[int, REGISTRATIONS] = REGISTRATIONS_PER_HOUR,
) -> None:
    """Run the Whatalo sandbox and the MCP server wired to it, and print how to connect."""
    _require_sandbox()
    from .cache_backend import summary
    from .telemetry_setup import sdk_disabled

    if sdk_disabled():
        raise fail("dev serves Prometheus /metrics, which needs the OpenTelemetry SDK: unset OTEL_SDK_DISABLED", 2)
    resource_url = f"http://localhost:{port}"
    if metrics_port is None:
        metrics_port = port + 1 if port < 65535 else port - 1
    sock = _listen("127.0.0.1", port, "--port")
    metrics_sock = _listen("127.0.0.1", metrics_port, "--metrics-port")
    running = _start_sandbox("127.0.0.1", sandbox_port, "--sandbox-port", registrations_per_hour)
    try:
        settings = _settings(**running.server_settings(resource_url, port), metrics_port=metrics_port)
        mcp_url = f"{resource_url}/mcp"
        typer.echo(f"\nWhatalo sandbox: {running.state.issuer}  (consent page, tokens, REST API; demo stores below)")
        typer.echo(f"MCP server:      {mcp_url}")
        typer.echo(f"Cache:           {summary(settings)} (CACHE_URL)")
        typer.echo(f"Metrics:         http://127.0.0.1:{metrics_port}/metrics  (Prometheus; --metrics-port)")
        typer.echo(connect_instructions(mcp_url), nl=False)
        _print_tokens(running, resource_url)
        typer.echo("\nCtrl-C stops both.\n")
        _serve(settings, sock, metrics_sock)
    finally:
        running.stop()
        typer.echo("sandbox stopped")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # an unexpected failure: one line unless --debug asks for the traceback
        if _debug:
            raise
        typer.secho(
            f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", fg=typer.colors.RED, err=True
        )
        sys.exit(1)
