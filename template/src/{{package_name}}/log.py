"""Logging that names the store and a token fingerprint, never a token or a secret."""

from __future__ import annotations

import logging

from . import store_context

FORMAT = "%(asctime)s %(levelname)s %(name)s [store=%(store)s token=%(token_fp)s] %(message)s"


class StoreContextFilter(logging.Filter):
    """Adds ``store`` and ``token_fp`` (first 8 hex digits of the token's SHA-256) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = store_context.current()
        record.store = context.store_id if context else "-"
        record.token_fp = context.fingerprint if context else "-"
        return True


def silence_access_log() -> None:
    """uvicorn's access log prints request targets, query strings included (``?access_token=...``).

    ``access_log=False`` does not stop it when uvicorn's own logging config is off, so cut it here.
    """
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(StoreContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()
    silence_access_log()


def quiet_libraries() -> None:
    """Keep the libraries' chatter out of the log, at every level.

    The HTTP client logs each request line at INFO and its wire traces (response
    headers included) at DEBUG; the SDK announces every stateless request's
    absent session at INFO.
    """
    for name in ("httpx2", "httpx", "httpcore2", "httpcore", "mcp.server.streamable_http"):
        logging.getLogger(name).setLevel(logging.WARNING)
