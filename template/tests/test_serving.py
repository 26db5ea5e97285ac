"""Every listener the project opens answers keep-alive requests at once: ``TCP_NODELAY`` on each connection.

Without it, Nagle's algorithm holds the last segment of each response until the client's delayed
ACK (at least 40 ms on Linux), so every request after the first on a keep-alive connection, the
way MCP clients and load balancers talk, took 40 ms or more whatever the server did.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.project import BackgroundServer, cli

REQUESTS = 20
DELAYED_ACK = 0.040  # seconds: Linux's shortest delayed ACK, what each request waited for under Nagle


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@contextmanager
def serve_listener() -> Iterator[BackgroundServer]:
    """``serve``'s own listening socket (what ``serve`` and ``dev`` hand to uvicorn), with a small app on it."""
    sock = cli._listen("127.0.0.1", 0, "--port")
    with BackgroundServer(Starlette(routes=[Route("/", hello)]), sock=sock) as server:
        yield server


@dataclass(frozen=True)
class Listener:
    """A running server, and a path on it that answers a GET with 200."""

    server: BackgroundServer
    path: str


@contextmanager
def listener(name: str, request: pytest.FixtureRequest) -> Iterator[Listener]:
    if name == "mcp server":
        yield Listener(request.getfixturevalue("server").server, "/healthz")
    elif name == "sandbox":
        yield Listener(request.getfixturevalue("sandbox_server").server, "/.well-known/oauth-authorization-server")
    else:
        with serve_listener() as server:
            yield Listener(server, "/")


def accepted_nodelay(server: BackgroundServer) -> list[int]:
    """``TCP_NODELAY`` of every connection the server holds open (uvicorn's own connection set)."""
    sockets = [c.transport.get_extra_info("socket") for c in server._server.server_state.connections]
    return [sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in sockets]


@pytest.mark.parametrize("name", ["mcp server", "sandbox", "serve listener"])
def test_keep_alive_requests_are_not_held_back_by_nagle(name, request):
    with listener(name, request) as running:
        server, path = running.server, running.path
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", path)
            connection.getresponse().read()  # connected: from here on, one keep-alive connection
            started = time.perf_counter()
            for _ in range(REQUESTS):
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                assert response.status == 200
            elapsed = time.perf_counter() - started
            nodelay = accepted_nodelay(server)
        finally:
            connection.close()
    assert nodelay and all(nodelay), nodelay
    # Under Nagle every one of these requests waits for a delayed ACK: at least REQUESTS x 40 ms.
    assert elapsed < REQUESTS * DELAYED_ACK, f"{REQUESTS} keep-alive requests took {elapsed * 1000:.0f} ms"
