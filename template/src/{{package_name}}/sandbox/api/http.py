"""What every route of the REST API shares: Whatalo's error envelope, lookups, query parameters, pagination."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..model import fold, parse_iso

Json = dict[str, Any]


class ApiError(Exception):
    """An error answer in Whatalo's envelope."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}

    def response(self, headers: dict[str, str]) -> Response:
        error: Json = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return JSONResponse({"error": error}, status_code=self.status, headers={**headers, **self.headers})


def invalid(field: str, message: str, *, query: bool = False) -> ApiError:
    text = "Invalid query parameters" if query else "Invalid request body"
    return ApiError(422, "VALIDATION_ERROR", text, [{"field": field, "message": message}])


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{kind} {object_id} not found")


def lookup(objects: dict[str, Json], kind: str, object_id: str) -> Json:
    found = objects.get(object_id)
    if found is None:
        raise not_found(kind, object_id)
    return found


def path_id(request: Request) -> str:
    return str(request.path_params["id"])


def deleted() -> Json:
    return {"data": {"deleted": True}}


# -- query parameters ----------------------------------------------------------


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid(name, "must be an integer", query=True) from None
    if not low <= value <= high:
        bounds = f"between {low} and {high}" if high < 10**9 else f"at least {low}"
        raise invalid(name, f"must be {bounds}", query=True)
    return value


def paginate(request: Request, rows: list[Json]) -> Json:
    page = query_int(request, "page", 1, 1, 10**9)
    per_page = query_int(request, "per_page", 25, 1, 100)
    start = (page - 1) * per_page
    total_pages = math.ceil(len(rows) / per_page)
    pagination = {"page": page, "per_page": per_page, "total": len(rows), "total_pages": total_pages}
    return {"data": rows[start : start + per_page], "pagination": pagination}


def choice(request: Request, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    options = tuple(allowed)
    if raw not in options:
        raise invalid(name, f"must be one of: {', '.join(options)}", query=True)
    return raw


def choices(request: Request, name: str, allowed: Iterable[str]) -> set[str] | None:
    """A comma-separated list of allowed values."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    values, options = {v.strip() for v in raw.split(",") if v.strip()}, tuple(allowed)
    if not values <= set(options):
        raise invalid(name, f"values must be among: {', '.join(options)}", query=True)
    return values


def flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise invalid(name, "must be true or false", query=True)


def number(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise invalid(name, "must be a number", query=True)
    return value


def moment(request: Request, name: str, *, end: bool = False) -> datetime | None:
    """A date-time query value; with ``end``, a bare date means the end of that day."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = parse_iso(raw)
    except ValueError:
        raise invalid(name, "must be an ISO 8601 date or date-time", query=True) from None
    return value + timedelta(days=1, microseconds=-1) if end and len(raw.strip()) == 10 else value


def in_range(request: Request, rows: list[Json], field: str, *, dates: bool = False) -> list[Json]:
    """Apply ``field[gte]`` and ``field[lte]`` (rows without a value are left out when either is given)."""
    low: Any = moment(request, f"{field}[gte]") if dates else number(request, f"{field}[gte]")
    high: Any = moment(request, f"{field}[lte]", end=True) if dates else number(request, f"{field}[lte]")
    if low is None and high is None:
        return rows
    kept = []
    for row in rows:
        if row[field] is None:
            continue
        value = parse_iso(row[field]) if dates else row[field]
        if (low is None or value >= low) and (high is None or value <= high):
            kept.append(row)
    return kept


def searched(request: Request, rows: list[Json], fields: tuple[str, ...]) -> list[Json]:
    term = fold(request.query_params.get("search", "").strip())
    if not term:
        return rows
    return [r for r in rows if any(r.get(f) is not None and term in fold(str(r[f])) for f in fields)]


def sort_rows(request: Request, rows: list[Json], allowed: tuple[str, ...], default: str = "created_at") -> list[Json]:
    """Sort by ``sort`` and ``order`` (default ``created_at desc``); missing values go last."""
    field = choice(request, "sort", allowed, default) or default
    descending = choice(request, "order", ("asc", "desc"), "desc") == "desc"
    present = [r for r in rows if r.get(field) is not None]
    present.sort(key=lambda r: fold(r[field]) if isinstance(r[field], str) else r[field], reverse=descending)
    return present + [r for r in rows if r.get(field) is None]
