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
    # The HTTP client logs every request line at INFO; keep it for DEBUG runs.
    logging.getLogger("httpx2").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    # The SDK announces every stateless request's (absent) session at INFO.
    logging.getLogger("mcp.server.streamable_http").setLevel(max(logging.WARNING, root.level))
    silence_access_log()
