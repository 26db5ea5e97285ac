"""Request bodies of the REST API: a JSON object whose fields are checked against a schema of :class:`Spec`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from ..model import parse_iso
from .http import ApiError, Json

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE = re.compile(r"^\S{1,64}$")


@dataclass(frozen=True)
class Spec:
    """What a body field accepts."""

    kind: str  # name, text, slug, code, email, phone, https, time, enum, bool, int, money, strings, variants
    nullable: bool = True
    choices: tuple[str, ...] = ()
    minimum: int = 0


def problem(spec: Spec, value: Any) -> str | None:
    kind = spec.kind
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind in ("int", "money"):
        if isinstance(value, bool) or not isinstance(value, int if kind == "int" else (int, float)):
            return "must be an integer" if kind == "int" else "must be a number"
        return f"must be at least {spec.minimum}" if value < spec.minimum else None
    if kind == "strings":
        ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        return None if ok else "must be a list of non-empty strings"
    if kind == "variants":
        return variants_problem(value)
    if not isinstance(value, str):
        return "must be a string"
    checks: dict[str, tuple[Callable[[str], bool], str]] = {
        "name": (lambda v: bool(v.strip()) and len(v) <= 255, "must be a non-empty string of at most 255 characters"),
        "text": (lambda v: len(v) <= 10000, "must be at most 10000 characters"),
        "slug": (lambda v: bool(SLUG.match(v)), "must contain only lowercase letters, digits and hyphens"),
        "code": (lambda v: bool(CODE.match(v)), "must be 1 to 64 characters without spaces"),
        "email": (lambda v: bool(EMAIL.match(v.strip())), "must be a valid email address"),
        "phone": (lambda v: bool(PHONE.match(v.strip())), "must be an E.164 phone number, e.g. +18095551234"),
        "https": (is_https_url, "must be an https:// URL"),
        "time": (valid_time, "must be an ISO 8601 date-time"),
        "enum": (lambda v: v in spec.choices, f"must be one of: {', '.join(spec.choices)}"),
    }
    check, message = checks[kind]
    return None if check(value) else message


def is_https_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced [ of an IPv6 host
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def valid_time(value: str) -> bool:
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


VARIANT_SCHEMA = {
    "sku": Spec("text"),
    "price": Spec("money"),
    "stock_quantity": Spec("int"),
    "track_inventory": Spec("bool"),
    "low_stock_threshold": Spec("int"),
    "continue_selling": Spec("bool"),
}


def variants_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list of variants"
    seen: set[tuple[str, str]] = set()
    for n, variant in enumerate(value):
        if not isinstance(variant, dict):
            return f"item {n} must be an object"
        for key in ("variant_type", "variant_value"):
            if problem(Spec("name"), variant.get(key)) is not None:
                return f"item {n}: {key} must be a non-empty string"
        pair = (variant["variant_type"].strip(), variant["variant_value"].strip())
        if pair in seen:
            return f"item {n} repeats {pair[0]}: {pair[1]}"
        seen.add(pair)
        for key, spec in VARIANT_SCHEMA.items():
            if variant.get(key) is not None and problem(spec, variant[key]) is not None:
                return f"item {n}: {key} {problem(spec, variant[key])}"
    return None


def validate(body: Json, schema: dict[str, Spec], required: tuple[str, ...] = ()) -> Json:
    """The known fields of ``body``, checked; 422 listing every bad field otherwise."""
    errors = [{"field": f, "message": "is required"} for f in required if body.get(f) is None]
    clean: Json = {}
    for name, spec in schema.items():
        if name not in body or (name in required and body[name] is None):
            continue
        value = body[name]
        message = ("must not be null" if not spec.nullable else None) if value is None else problem(spec, value)
        if message:
            errors.append({"field": name, "message": message})
        else:
            clean[name] = value.strip() if spec.kind in ("name", "email", "phone", "code") and value else value
    if errors:
        raise ApiError(422, "VALIDATION_ERROR", "Invalid request body", errors)
    return clean


def reject_nonfinite(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


async def read_body(request: Request) -> Json:
    raw = await request.body()
    try:
        body = json.loads(raw, parse_constant=reject_nonfinite) if raw.strip() else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        detail = [{"field": "body", "message": "must be a JSON object"}]
        raise ApiError(400, "VALIDATION_ERROR", "Invalid JSON body", detail)
    return body
