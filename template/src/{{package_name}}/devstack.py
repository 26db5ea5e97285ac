"""The wiring behind ``dev`` and ``sandbox``: a local Whatalo sandbox, tokens from it, and the
server's settings for it. Nothing here prints; the command line does.

Needs the ``sandbox`` package, which the production image leaves out: import this module only
after checking that it is there.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from .cache_backend import dev_settings
from .sandbox.app import create_sandbox_app
from .sandbox.state import SandboxState
from .serving import BackgroundServer
from .tools import SCOPES

TOKEN_LIFETIME = 12 * 3600


@dataclass(frozen=True)
class ReadyToken:
    store_name: str
    store_id: str
    token: str = field(repr=False)


@dataclass
class RunningSandbox:
    state: SandboxState
    server: BackgroundServer
    client_id: str
    client_secret: str = field(repr=False)  # the MCP server's own credentials at the sandbox

    def server_settings(self, resource_url: str, port: int) -> dict[str, object]:
        """The settings of an MCP server on ``127.0.0.1:port`` that uses this sandbox as Whatalo."""
        return {
            "whatalo_issuer": self.state.issuer,
            "whatalo_api_url": self.state.api_url,
            "whatalo_client_id": self.client_id,
            "whatalo_client_secret": self.client_secret,
            "mcp_resource_url": resource_url,
            "mcp_host": "127.0.0.1",
            "mcp_port": port,
            "shutdown_drain_seconds": 0,  # no load balancer to wait for: Ctrl-C stops at once
            **dev_settings(),
        }

    def ready_tokens(self, resource_url: str, scopes: list[str] | None = None) -> list[ReadyToken]:
        """A token per demo store for ``resource_url``, with ``scopes`` (default: every scope of this project)."""
        chosen = scopes or list(SCOPES)
        return [
            ReadyToken(
                data.store["name"], store_id, self.state.mint(store_id, chosen, resource_url, expires_in=TOKEN_LIFETIME)
            )
            for store_id, data in self.state.stores.items()
        ]

    def stop(self) -> None:
        self.server.stop()


def start_sandbox(sock: socket.socket, registrations_per_hour: int) -> RunningSandbox:
    """The sandbox on ``sock`` (bound and listening), with a confidential client for the MCP server."""
    state = SandboxState()
    state.registrations_per_hour = registrations_per_hour
    server = BackgroundServer(create_sandbox_app(state), sock=sock)
    state.issuer = state.api_url = server.url
    client_id, secret = state.register_confidential_client("sandbox-mcp-server")
    server.start()
    return RunningSandbox(state, server, client_id, secret)
