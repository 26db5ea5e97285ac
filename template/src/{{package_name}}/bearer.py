"""Reading the bearer token from a request's ``Authorization`` header (RFC 6750 §2.1).

Only the header is a credential: tokens in the query string, a form body or a
cookie are never looked at. Parsing is linear-time and happens before any
network call, so a malformed header never reaches the authorization server.
"""

from __future__ import annotations

import re
from enum import Enum

MAX_TOKEN_LENGTH = 4096
_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class Problem(Enum):
    """Why a request carries no usable bearer token, mapped to RFC 6750 §3.1's answers."""

    MISSING = "missing"  # no credentials or another scheme: 401 without an error code
    INVALID_REQUEST = "invalid_request"  # empty or repeated: 400
    INVALID_TOKEN = "invalid_token"  # bad syntax or too long: 401


class BearerError(Exception):
    def __init__(self, problem: Problem, description: str) -> None:
        super().__init__(description)
        self.problem = problem
        self.description = description


def bearer_token(authorization: list[str]) -> str:
    """The token from the ``Authorization`` header values of one request.

    Raises :class:`BearerError`. Descriptions never contain the token.
    """
    if not authorization:
        raise BearerError(Problem.MISSING, "no credentials")
    if len(authorization) > 1:
        raise BearerError(Problem.INVALID_REQUEST, "more than one Authorization header")
    value = authorization[0]
    match = _SCHEME.match(value)
    if match is None or match.group().lower() != "bearer":
        raise BearerError(Problem.MISSING, "not a Bearer credential")
    rest = value[match.end() :]
    if not rest.strip(" \t"):
        raise BearerError(Problem.INVALID_REQUEST, "the Bearer token is empty")
    if not rest.startswith(" "):
        raise BearerError(Problem.INVALID_TOKEN, "the scheme and the token must be separated by a space")
    token = rest.lstrip(" ")
    if len(token) > MAX_TOKEN_LENGTH:
        raise BearerError(Problem.INVALID_TOKEN, f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    if _B64TOKEN.fullmatch(token) is None:
        raise BearerError(Problem.INVALID_TOKEN, "the token is not valid RFC 6750 b64token syntax")
    return token
