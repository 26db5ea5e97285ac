"""The sandbox as one ASGI app: Whatalo's authorization server and REST API v1 on one origin."""

from __future__ import annotations

from starlette.applications import Starlette

from .api import api_routes
from .authserver import authserver_routes
from .state import SandboxState


def create_sandbox_app(state: SandboxState) -> Starlette:
    return Starlette(routes=[*authserver_routes(state), *api_routes(state)])
