"""Parsing ``WWW-Authenticate`` (RFC 9110 §11.2, §11.6.1): challenges, auth-params, token68.

A field value is a comma-separated list of challenges; a challenge is a scheme followed by either
one token68 or a comma-separated list of ``name=value`` parameters (a token or a quoted string).
Several fields are one list. Parameter names are case-insensitive (kept lowercase here), and a
name repeated within one challenge is recorded, not merged: RFC 9110 forbids it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_PARAM = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


class ChallengeSyntaxError(ValueError):
    """A ``WWW-Authenticate`` value that is not RFC 9110 syntax."""


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None
    repeated: frozenset[str] = frozenset()  # parameter names that occur more than once

    def is_scheme(self, name: str) -> bool:
        return self.scheme.lower() == name.lower()


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Every challenge of these ``WWW-Authenticate`` field values, in order."""
    challenges: list[Challenge] = []
    for value in values:
        challenges += _parse(value)
    return challenges


def bearer_challenge(values: Iterable[str]) -> Challenge | None:
    """The first ``Bearer`` challenge of these field values (``ChallengeSyntaxError`` if malformed)."""
    return next((c for c in parse_challenges(values) if c.is_scheme("bearer")), None)


def _ows(text: str, pos: int) -> int:
    """The position after the optional whitespace at ``pos``."""
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _skip_separators(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t,":
        pos += 1
    return pos


def _at_list_end(text: str, pos: int) -> bool:
    """Whether only whitespace stands between ``pos`` and the next comma or the end."""
    pos = _ows(text, pos)
    return pos == len(text) or text[pos] == ","


def _parse(text: str) -> list[Challenge]:
    challenges: list[Challenge] = []
    pos = _skip_separators(text, 0)
    while pos < len(text):
        scheme = _TOKEN.match(text, pos)
        if scheme is None:
            raise ChallengeSyntaxError(f"expected an auth-scheme at character {pos + 1}")
        pos = scheme.end()
        params: dict[str, str] = {}
        repeated: set[str] = set()
        token68: str | None = None
        if pos < len(text) and text[pos] in " \t":
            pos = _ows(text, pos)
            candidate = _TOKEN68.match(text, pos)
            # A token68 runs to the end of the list item, a parameter has a value after its "=";
            # a scheme may also stand alone.
            if candidate is not None and _at_list_end(text, candidate.end()):
                token68, pos = candidate.group(), candidate.end()
            elif not _at_list_end(text, pos):
                pos = _parse_params(text, pos, params, repeated)
        challenges.append(Challenge(scheme.group(), params, token68, frozenset(repeated)))
        pos = _ows(text, pos)
        if pos < len(text):
            if text[pos] != ",":
                raise ChallengeSyntaxError(f"expected ',' at character {pos + 1}")
            pos = _skip_separators(text, pos)
    return challenges


def _parse_params(text: str, pos: int, params: dict[str, str], repeated: set[str]) -> int:
    """Read ``name=value`` pairs from ``pos``; stop before what starts the next challenge."""
    while True:
        param = _PARAM.match(text, pos)
        if param is None:
            raise ChallengeSyntaxError(f"expected name=value at character {pos + 1}")
        pos = param.end()
        quoted = _QUOTED.match(text, pos)
        if quoted is not None:
            value, pos = _ESCAPE.sub(r"\1", quoted.group(1)), quoted.end()
        else:
            token = _TOKEN.match(text, pos)
            if token is None:
                raise ChallengeSyntaxError(f"expected a token or a quoted string at character {pos + 1}")
            value, pos = token.group(), token.end()
        name = param.group(1).lower()
        if name in params:
            repeated.add(name)
        else:
            params[name] = value
        pos = _ows(text, pos)
        if pos == len(text) or text[pos] != ",":
            return pos
        following = _skip_separators(text, pos)
        if following == len(text) or _PARAM.match(text, following) is None:
            return pos  # the comma ends this challenge: what follows is another scheme (or nothing)
        pos = following
