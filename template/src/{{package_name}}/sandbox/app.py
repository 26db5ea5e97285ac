"""The sandbox as one ASGI app: Whatalo's authorization server and REST API v1 on one origin."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from .api.routes import api_routes
from .authserver import authserver_routes
from .state import SandboxState


def create_sandbox_app(state: SandboxState) -> Starlette:
    # Browser-based MCP clients (MCP Inspector) call discovery, registration and the token
    # endpoint from their page's origin.
    cors = Middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "MCP-Protocol-Version"],
    )
    return Starlette(routes=[*authserver_routes(state), *api_routes(state)], middleware=[cors])
