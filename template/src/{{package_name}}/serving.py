"""Serving an ASGI app with uvicorn: listening sockets, a graceful shutdown, a background thread.

``GracefulServer`` is what ``serve`` and ``dev`` run; ``BackgroundServer`` runs an app in a thread
for ``dev`` (the sandbox next to the server) and for the tests (both, over real HTTP on
127.0.0.1). Start-up and shutdown waits are bounded.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType

import uvicorn
from starlette.types import ASGIApp

from .log import silence_access_log

log = logging.getLogger(__name__)

START_TIMEOUT = 15.0
GRACEFUL_SECONDS = 10  # uvicorn's timeout_graceful_shutdown: the longest an in-flight request may still take


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port``, for uvicorn's ``sockets=``.

    The protocol is named (``IPPROTO_TCP``, not 0): asyncio turns ``TCP_NODELAY`` on only for
    sockets whose ``proto`` says TCP, and without it Nagle's algorithm holds each response's last
    segment until the client's delayed ACK, about 40 ms per request on a keep-alive connection.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class GracefulServer(uvicorn.Server):
    """uvicorn's server, with a drain period before its graceful shutdown.

    On the first ``SIGTERM`` or ``SIGINT``, ``on_drain`` is called (``/readyz`` turns 503, so a load
    balancer's health check takes the replica out) and requests are still served, new ones too,
    for ``drain_seconds``. Then uvicorn's own graceful shutdown: it stops accepting, lets in-flight
    requests finish within ``timeout_graceful_shutdown``, runs the lifespan's shutdown, and the
    process exits 0 (after ``SIGINT``, uvicorn raises it again: Ctrl-C ends the program as usual).
    A second signal exits at once, with 128 + the signal's number, dropping what is still in flight.
    """

    def __init__(self, config: uvicorn.Config, *, drain_seconds: float, on_drain: Callable[[], None]) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds
        self._on_drain = on_drain
        self._drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain_until is not None or self.should_exit:
            in_flight = len(self.server_state.tasks)
            log.warning("%s again: exiting now; in-flight requests dropped: %d", signal.Signals(sig).name, in_flight)
            os._exit(128 + sig)  # at once: no waiting, and no cancelled request's traceback in the log
        if sig == signal.SIGINT:
            self._captured_signals.append(sig)  # raised again by uvicorn once stopped; SIGTERM is not: exit 0
        self._drain_until = time.monotonic() + self.drain_seconds
        self._on_drain()
        log.info(
            "%s: draining for %g s (/readyz answers 503, requests are still served), then finishing in-flight "
            "requests for at most %s s; a second signal stops at once",
            signal.Signals(sig).name,
            self.drain_seconds,
            self.config.timeout_graceful_shutdown,
        )

    async def on_tick(self, counter: int) -> bool:
        if self._drain_until is not None and time.monotonic() >= self._drain_until:
            self.should_exit = True
        return await super().on_tick(counter)


class BackgroundServer:
    """``with BackgroundServer(app) as server: ... server.url ...``"""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None) -> None:
        self.app = app
        self.socket = sock or listening_socket(host, port)
        self.host, self.port = self.socket.getsockname()[:2]
        host = self.host
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        silence_access_log()
        self._thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self.socket])

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT)
        self.socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
