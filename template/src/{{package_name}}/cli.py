"""The command line: ``serve``, ``dev``, ``sandbox``, ``check`` and ``tools``.

Every failure is one plain line on stderr and a non-zero exit; ``--debug``
(before the command) shows the traceback of an unexpected one.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx2 as httpx
import typer

from . import PROJECT_NAME
from .settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from .sandbox.state import SandboxState
    from .serving import BackgroundServer

app = typer.Typer(
    help=f"{PROJECT_NAME}: an MCP server for Whatalo stores (OAuth 2.1 resource server).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DEV_TOKEN_LIFETIME = 12 * 3600
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
    from .serving import bind

    try:
        sock = bind(host, port)
        sock.listen(2048)  # from now on connections wait in the backlog until the server accepts them
        return sock
    except OSError as exc:
        raise fail(
            f"cannot listen on {host}:{port} ({exc.strerror}); free the port or choose another with {option}"
        ) from None


def _serve(settings: Settings, sock: socket.socket) -> None:
    import uvicorn

    from .app import create_app
    from .log import configure_logging

    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.mcp_host,
        port=settings.mcp_port,
        log_config=None,
        access_log=False,  # access lines would carry query strings; the app logs what matters
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])


@app.command()
def serve() -> None:
    """Run the MCP server with the configuration from the environment and .env."""
    settings = _settings()
    _serve(settings, _listen(settings.mcp_host, settings.mcp_port, "MCP_PORT"))


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
    problems = asyncio.run(_check(settings))
    for problem, hint in problems:
        _problem(problem, hint)
    if problems:
        raise typer.Exit(1)
    typer.secho("all checks passed", fg=typer.colors.GREEN)


def _problem(problem: str, hint: str, label: str = "fix") -> None:
    typer.secho(f"problem: {problem}", fg=typer.colors.RED, err=True)
    if hint:
        typer.echo(f"  {label}: {hint}", err=True)


async def _check(settings: Settings) -> list[tuple[str, str]]:
    """What is wrong, each with what to do about it; empty when all is well."""
    from .discovery import DiscoveryError, discover, metadata_url
    from .introspection import client_auth

    async with httpx.AsyncClient(follow_redirects=False, timeout=settings.introspection_timeout) as http:
        typer.echo(f"discovery at {metadata_url(settings.whatalo_issuer)}... ", nl=False)
        try:
            metadata = await discover(http, settings.whatalo_issuer, settings.introspection_timeout)
        except DiscoveryError as exc:
            typer.echo("failed")
            return [(f"discovery: {exc}", exc.hint)]
        typer.echo("ok (issuer matches)")
        problems = []
        grants = metadata.document.get("grant_types_supported")
        if isinstance(grants, list) and "urn:ietf:params:oauth:grant-type:token-exchange" not in grants:
            problems.append(
                (
                    "discovery: the authorization server does not list token exchange (RFC 8693), which tools need",
                    "tools call Whatalo's API with exchanged tokens; ask Whatalo to enable the grant for this client",
                )
            )
        methods = metadata.document.get("introspection_endpoint_auth_methods_supported")
        if isinstance(methods, list) and settings.whatalo_client_auth_method not in methods:
            problems.append(
                (
                    f"discovery: introspection does not accept {settings.whatalo_client_auth_method}",
                    f"set WHATALO_CLIENT_AUTH_METHOD to one of {', '.join(map(str, methods))}",
                )
            )
        headers, form = client_auth(settings)
        # A random token that cannot exist: a well-configured server gets {"active": false}.
        form.update(token=secrets.token_urlsafe(32), token_type_hint="access_token")
        typer.echo(f"introspection credentials at {metadata.introspection_endpoint}... ", nl=False)
        introspection = await _check_introspection(http, metadata.introspection_endpoint, form, headers)
        typer.echo("ok (credentials accepted)" if introspection is None else "failed")
        if introspection is not None:
            problems.append(introspection)
    from .cache_backend import describe, open_cache

    typer.echo(f"cache ({describe(settings)})... ", nl=False)
    cache = open_cache(settings)
    reachable = await cache.ping()
    await cache.aclose()
    typer.echo("ok" if reachable else "failed")
    if not reachable:
        problems.append((f"cache: cannot reach the {describe(settings)}", "check CACHE_URL and that the cache is up"))
    return problems


async def _check_introspection(
    http: httpx.AsyncClient, endpoint: str, form: dict[str, str], headers: dict[str, str]
) -> tuple[str, str] | None:
    """What is wrong with introspecting at ``endpoint`` with this server's credentials, if anything."""
    try:
        response = await http.post(endpoint, data=form, headers=headers)
    except httpx.HTTPError as exc:
        return f"introspection: cannot reach {endpoint} ({type(exc).__name__})", "check the network and WHATALO_ISSUER"
    if response.status_code in (400, 401, 403):
        return (
            f"introspection: Whatalo refused this server's credentials (HTTP {response.status_code})",
            "check WHATALO_CLIENT_ID, WHATALO_CLIENT_SECRET and WHATALO_CLIENT_AUTH_METHOD",
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
        return (
            f"introspection: unexpected answer (HTTP {response.status_code})",
            "retry later; if it lasts, ask Whatalo",
        )
    return None


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


def _require_sandbox() -> None:
    """``dev`` and ``sandbox`` need the sandbox package, which the production image leaves out."""
    if importlib.util.find_spec(f"{__package__}.sandbox") is None:
        invoked = Path(sys.argv[0]).name
        command = f"python -m {__package__}" if invoked == "__main__.py" else invoked
        raise fail(
            "the Whatalo sandbox is for development and is not in this build (the production image leaves it "
            f"out); run it from a checkout of the project: uv sync, then uv run {command} dev"
        )


def _start_sandbox(
    host: str, port: int, option: str, registrations_per_hour: int
) -> tuple[SandboxState, BackgroundServer, str, str]:
    from .sandbox.app import create_sandbox_app
    from .sandbox.state import SandboxState
    from .serving import BackgroundServer

    sock = _listen(host, port, option)
    with step(f"starting the Whatalo sandbox on {host}:{port}"):
        state = SandboxState()
        state.registrations_per_hour = registrations_per_hour
        server = BackgroundServer(create_sandbox_app(state), sock=sock)
        state.issuer = state.api_url = server.url
        client_id, secret = state.register_confidential_client("sandbox-mcp-server")
        server.start()
    return state, server, client_id, secret


def _print_tokens(state: SandboxState, resource_url: str, scopes: list[str] | None = None) -> None:
    from .tools import SCOPES

    chosen = scopes or list(SCOPES)
    described = "every scope of this project" if scopes is None else " ".join(chosen)
    typer.echo(f"\nReady Bearer tokens ({described}; valid 12 h), to skip the sign-in:")
    for store_id, data in state.stores.items():
        token = state.mint(store_id, chosen, resource_url, expires_in=DEV_TOKEN_LIFETIME)
        typer.echo(f"  {data.store['name']} ({store_id}):\n    {token}")


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
    state, server, client_id, secret = _start_sandbox(host, port, "--port", registrations_per_hour)
    try:
        typer.echo(f"\nWhatalo sandbox on {server.url}. Configure the MCP server with:\n")
        typer.echo(f"  WHATALO_ISSUER={state.issuer}\n  WHATALO_API_URL={state.api_url}")
        typer.echo(f"  WHATALO_CLIENT_ID={client_id}\n  WHATALO_CLIENT_SECRET={secret}")
        typer.echo(f"  MCP_RESOURCE_URL={resource_url}")
        _print_tokens(state, resource_url, scope)
        typer.echo("\nCtrl-C stops the sandbox.")
        _wait_for_ctrl_c()
    finally:
        server.stop()
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
    registrations_per_hour: Annotated[int, REGISTRATIONS] = REGISTRATIONS_PER_HOUR,
) -> None:
    """Run the Whatalo sandbox and the MCP server wired to it, and print how to connect."""
    _require_sandbox()
    from .cache_backend import describe, dev_settings

    resource_url = f"http://localhost:{port}"
    sock = _listen("127.0.0.1", port, "--port")
    state, server, client_id, secret = _start_sandbox(
        "127.0.0.1", sandbox_port, "--sandbox-port", registrations_per_hour
    )
    try:
        settings = _settings(
            whatalo_issuer=state.issuer,
            whatalo_api_url=state.api_url,
            whatalo_client_id=client_id,
            whatalo_client_secret=secret,
            mcp_resource_url=resource_url,
            mcp_host="127.0.0.1",
            mcp_port=port,
            **dev_settings(),
        )
        mcp_url = f"{resource_url}/mcp"
        typer.echo(f"\nWhatalo sandbox: {state.issuer}  (consent page, tokens, REST API; demo stores below)")
        typer.echo(f"MCP server:      {mcp_url}")
        typer.echo(f"Cache:           {describe(settings)} (CACHE_URL)")
        typer.echo(connect_instructions(mcp_url), nl=False)
        _print_tokens(state, resource_url)
        typer.echo("\nCtrl-C stops both.\n")
        _serve(settings, sock)
    finally:
        server.stop()
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
