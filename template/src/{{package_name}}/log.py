"""Logging that names the store and a token fingerprint, never a token or a secret."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Literal

from opentelemetry import trace

from . import store_context

FORMAT = "%(asctime)s %(levelname)s %(name)s [store=%(store)s token=%(token_fp)s] %(message)s"


class StoreContextFilter(logging.Filter):
    """Adds ``store`` and ``token_fp`` (first 8 hex digits of the token's SHA-256) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = store_context.current()
        record.store = context.store_id if context else "-"
        record.token_fp = context.fingerprint if context else "-"
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, store, token fingerprint, trace and span ids.

    ``trace_id`` and ``span_id`` (hex) are those of the current span, null outside one.
    """

    def format(self, record: logging.LogRecord) -> str:
        context = trace.get_current_span().get_span_context()
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "store": _present(getattr(record, "store", "-")),
            "token_fp": _present(getattr(record, "token_fp", "-")),
            "trace_id": format(context.trace_id, "032x") if context.is_valid else None,
            "span_id": format(context.span_id, "016x") if context.is_valid else None,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _present(value: object) -> object:
    return None if value == "-" else value


def silence_access_log() -> None:
    """uvicorn's access log prints request targets, query strings included (``?access_token=...``).

    ``access_log=False`` does not stop it when uvicorn's own logging config is off, so cut it here.
    """
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True


def configure_logging(level: str, log_format: Literal["text", "json"] = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter() if log_format == "json" else logging.Formatter(FORMAT))
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
