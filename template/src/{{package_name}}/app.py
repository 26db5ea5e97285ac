"""The ASGI application: protected resource metadata, health, and the guarded MCP endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import PROJECT_NAME
from .auth import AuthMiddleware
from .authorization_server import AuthorizationServer
from .cache import Cache
from .cache_backend import open_cache
from .framework import build_mcp_app
from .introspection import Introspector
from .policy import ToolCallPolicy
from .readiness import readiness
from .settings import Settings
from .token_exchange import TokenExchange
from .tools import SCOPES, TOOLS
from .tools.base import ToolSpec
from .urls import PROTECTED_RESOURCE_WELL_KNOWN, resource_metadata_path, resource_metadata_url
from .whatalo_api import WhataloAPI

MCP_PATH = "/mcp"


def protected_resource_metadata(settings: Settings) -> dict[str, Any]:
    return {
        "resource": settings.mcp_resource_url,
        "authorization_servers": [settings.whatalo_issuer],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": PROJECT_NAME,
    }


@asynccontextmanager
async def mcp_lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the framework app's own lifespan (its session manager) for as long as the outer app lives."""
    async with app.router.lifespan_context(app):
        yield


class ServerApp(Starlette):
    """The routes, with the ``/mcp`` requests of non-browser clients handed straight to the gate.

    Without an ``Origin`` header CORS has nothing to do and there is one route to match: skipping
    Starlette's middleware stack and router there saves about 20 µs on every MCP request.
    """

    def __init__(self, *, mcp: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mcp = mcp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH and all(k != b"origin" for k, _ in scope["headers"]):
            scope["app"] = self
            await self._mcp(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


@dataclass
class Components:
    """The long-lived parts of a running server, shared by every request."""

    http: httpx.AsyncClient
    authorization_server: AuthorizationServer
    cache: Cache
    introspector: Introspector
    api: WhataloAPI
    draining: bool = False  # set on SIGTERM: /readyz answers 503 while requests are still served

    @classmethod
    def build(cls, settings: Settings) -> Components:
        http = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(settings.introspection_timeout, connect=min(1.0, settings.introspection_timeout)),
            # An idle connection is dropped after 4 s, before servers that close idle connections
            # after 5 s (uvicorn's default, the sandbox's) do: reusing one they are closing fails.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0),
        )
        authorization_server = AuthorizationServer(http, settings)
        cache = open_cache(settings)
        exchange = TokenExchange(
            authorization_server, cache, resource=settings.whatalo_api_url, wait=settings.introspection_timeout + 1
        )
        return cls(
            http=http,
            authorization_server=authorization_server,
            cache=cache,
            introspector=Introspector(settings, authorization_server, cache),
            api=WhataloAPI(settings.whatalo_api_url, http, exchange),
        )

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.cache.aclose()


def create_app(settings: Settings, tools: Sequence[ToolSpec] = TOOLS) -> Starlette:
    """The whole server. ``tools`` defaults to the tools table."""
    components = Components.build(settings)
    mcp_app = build_mcp_app(tools, name=PROJECT_NAME)
    guarded = AuthMiddleware(
        mcp_app,
        verifier=components.introspector,
        api=components.api,
        policy=ToolCallPolicy({tool.name: frozenset({tool.scope}) for tool in tools}),
        scopes_supported=list(SCOPES),
        metadata_url=resource_metadata_url(settings.mcp_resource_url),
        resource_url=settings.mcp_resource_url,
        allowed_origins=settings.allowed_origins,
    )
    document = protected_resource_metadata(settings)

    async def resource_metadata(request: Request) -> Response:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    async def not_found(request: Request) -> Response:
        return JSONResponse({"error": "not_found"}, status_code=404)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        status, body = await readiness(components.authorization_server, components.cache, draining=components.draining)
        return JSONResponse(body, status_code=status)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await components.authorization_server.refresh()
        await components.cache.ping()  # opens the first connection early; an unreachable cache is logged now
        try:
            async with mcp_lifespan(mcp_app):
                yield
        finally:
            await components.aclose()

    app = ServerApp(
        mcp=guarded,
        routes=[
            Route(resource_metadata_path(settings.mcp_resource_url), resource_metadata, methods=["GET"]),
            Route(PROTECTED_RESOURCE_WELL_KNOWN + "{rest:path}", not_found),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route(MCP_PATH, guarded),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST", "OPTIONS"],  # GET: the metadata and health; /mcp serves POST
                allow_headers=[
                    "authorization",
                    "content-type",
                    "mcp-protocol-version",
                    "mcp-method",  # the 2026-07-28 routing headers, sent by browser-based modern clients
                    "mcp-name",
                    "mcp-session-id",  # legacy clients may send them; the server is stateless and ignores them
                    "last-event-id",
                ],
                expose_headers=["WWW-Authenticate", "Mcp-Session-Id"],
            )
        ],
        lifespan=lifespan,
    )
    app.state.components = components
    return app
