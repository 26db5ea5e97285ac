"""Running an ASGI app with uvicorn in a background thread, on a socket bound up front.

Used by ``dev`` (the sandbox next to the server) and by the tests (both, over
real HTTP on 127.0.0.1). Start-up and shutdown waits are bounded.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from .log import silence_access_log

START_TIMEOUT = 15.0


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
