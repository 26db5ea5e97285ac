"""The sandbox as one ASGI app: Whatalo's authorization server and REST API v1 on one origin."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .api.routes import api_routes
from .authserver import authserver_routes
from .state import SandboxState


class _TraceContexts:
    """Records the ``traceparent`` header of every request (as Whatalo's own tracing would read it)."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"traceparent":
                    self.state.traceparents.append((scope["path"], value.decode("latin-1")))
        await self.app(scope, receive, send)


def create_sandbox_app(state: SandboxState) -> Starlette:
    # Browser-based MCP clients (MCP Inspector) call discovery, registration and the token
    # endpoint from their page's origin.
    cors = Middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "MCP-Protocol-Version"],
    )
    return Starlette(
        routes=[*authserver_routes(state), *api_routes(state)],
        middleware=[cors, Middleware(_TraceContexts, state=state)],
    )
