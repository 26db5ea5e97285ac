"""The command line: ``serve``, ``dev``, ``sandbox`` and ``check``."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
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


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        typer.secho(f"configuration error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _serve(settings: Settings) -> None:
    import uvicorn

    from .app import create_app
    from .log import configure_logging

    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.mcp_host,
        port=settings.mcp_port,
        log_config=None,
        access_log=False,  # access lines would carry query strings; the app logs what matters
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


@app.command()
def serve() -> None:
    """Run the MCP server with the configuration from the environment and .env."""
    _serve(_settings())


@app.command()
def check() -> None:
    """Check the configuration against Whatalo: discovery, issuer, introspection credentials."""
    settings = _settings()
    typer.echo(f"configuration: ok (resource {settings.mcp_resource_url}, issuer {settings.whatalo_issuer})")
    problems = asyncio.run(_check(settings))
    for problem in problems:
        typer.secho(f"problem: {problem}", fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)
    typer.secho("all checks passed", fg=typer.colors.GREEN)


async def _check(settings: Settings) -> list[str]:
    from .discovery import DiscoveryError, discover
    from .introspection import client_auth

    async with httpx.AsyncClient(follow_redirects=False, timeout=settings.introspection_timeout) as http:
        try:
            metadata = await discover(http, settings.whatalo_issuer, settings.introspection_timeout)
        except DiscoveryError as exc:
            return [f"discovery: {exc}"]
        typer.echo(f"discovery: ok (issuer matches, introspection at {metadata.introspection_endpoint})")
        problems = []
        grants = metadata.document.get("grant_types_supported")
        if isinstance(grants, list) and "urn:ietf:params:oauth:grant-type:token-exchange" not in grants:
            problems.append(
                "discovery: the authorization server does not list token exchange (RFC 8693), which tools need"
            )
        methods = metadata.document.get("introspection_endpoint_auth_methods_supported")
        if isinstance(methods, list) and settings.whatalo_client_auth_method not in methods:
            problems.append(
                f"discovery: introspection does not accept {settings.whatalo_client_auth_method}; "
                f"set WHATALO_CLIENT_AUTH_METHOD to one of {', '.join(map(str, methods))}"
            )
        headers, form = client_auth(settings)
        # A random token that cannot exist: a well-configured server gets {"active": false}.
        form.update(token=secrets.token_urlsafe(32), token_type_hint="access_token")
        try:
            response = await http.post(metadata.introspection_endpoint, data=form, headers=headers)
        except httpx.HTTPError as exc:
            return [f"introspection: cannot reach {metadata.introspection_endpoint} ({type(exc).__name__})"]
        if response.status_code in (400, 401, 403):
            return [
                f"introspection: Whatalo refused this server's credentials (HTTP {response.status_code}); "
                "check WHATALO_CLIENT_ID, WHATALO_CLIENT_SECRET and WHATALO_CLIENT_AUTH_METHOD"
            ]
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            return [f"introspection: unexpected answer (HTTP {response.status_code})"]
        typer.echo("introspection: ok (credentials accepted)")
    from .cache_backend import describe, open_cache

    cache = open_cache(settings)
    reachable = await cache.ping()
    await cache.aclose()
    if not reachable:
        problems.append(f"cache: cannot reach the {describe(settings)} (CACHE_URL)")
    else:
        typer.echo(f"cache: ok ({describe(settings)})")
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


def _start_sandbox(host: str, port: int) -> tuple[SandboxState, BackgroundServer, str, str]:
    from .sandbox.app import create_sandbox_app
    from .sandbox.state import SandboxState
    from .serving import BackgroundServer

    state = SandboxState()
    server = BackgroundServer(create_sandbox_app(state), host=host, port=port)
    state.issuer = state.api_url = server.url
    client_id, secret = state.register_confidential_client("sandbox-mcp-server")
    return state, server.start(), client_id, secret


def _print_tokens(state: SandboxState, resource_url: str, scopes: list[str] | None = None) -> None:
    from .tools import SCOPES

    chosen = scopes or list(SCOPES)
    described = "every scope of this project" if scopes is None else " ".join(chosen)
    typer.echo(f"\nReady tokens ({described}; valid 12 h):")
    for store_id, data in state.stores.items():
        token = state.mint(store_id, chosen, resource_url, expires_in=DEV_TOKEN_LIFETIME)
        typer.echo(f"  {data.store['name']} ({store_id}):\n    {token}")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the sandbox.")] = 9000,
    resource_url: Annotated[str, typer.Option(help="The MCP server's MCP_RESOURCE_URL (audience of the tokens).")] = (
        "http://localhost:8000"
    ),
    scope: Annotated[
        list[str] | None, typer.Option(help="Scope of the printed tokens (repeat it); default: every scope.")
    ] = None,
) -> None:
    """Run the local Whatalo sandbox (authorization server + REST API) alone."""
    state, server, client_id, secret = _start_sandbox(host, port)
    typer.echo(f"Whatalo sandbox on {server.url}. Configure the MCP server with:\n")
    typer.echo(f"  WHATALO_ISSUER={state.issuer}\n  WHATALO_API_URL={state.api_url}")
    typer.echo(f"  WHATALO_CLIENT_ID={client_id}\n  WHATALO_CLIENT_SECRET={secret}\n  MCP_RESOURCE_URL={resource_url}")
    _print_tokens(state, resource_url, scope)
    typer.echo("\nCtrl-C stops the sandbox.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the MCP server.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port of the Whatalo sandbox.")] = 9000,
) -> None:
    """Run the Whatalo sandbox and the MCP server wired to it, and print how to connect."""
    from .cache_backend import describe, dev_settings

    resource_url = f"http://localhost:{port}"
    state, server, client_id, secret = _start_sandbox("127.0.0.1", sandbox_port)
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
        typer.echo(f"Whatalo sandbox: {state.issuer}")
        typer.echo(f"MCP server:      {mcp_url}")
        typer.echo(f"Cache:           {describe(settings)} (CACHE_URL)")
        _print_tokens(state, resource_url)
        typer.echo(
            "\nConnect a client:\n"
            "  MCP Inspector:  npx @modelcontextprotocol/inspector\n"
            f"                  Transport 'Streamable HTTP', URL {mcp_url},\n"
            "                  Authentication: header 'Authorization' = 'Bearer <token above>'\n"
            "  Claude Desktop: in claude_desktop_config.json, under mcpServers:\n"
            f'                  "whatalo": {{"command": "npx", "args": ["mcp-remote", "{mcp_url}",\n'
            '                   "--header", "Authorization:Bearer <token above>"]}\n'
            f"  curl:           curl -s {mcp_url} -H 'Authorization: Bearer <token>' \\\n"
            "                    -H 'Content-Type: application/json' \\\n"
            "                    -H 'Accept: application/json, text/event-stream' \\\n"
            """                    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'\n"""
            "\nCtrl-C stops both.\n"
        )
        _serve(settings)
    finally:
        server.stop()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
