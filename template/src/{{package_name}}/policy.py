"""The tool-call policy: the scopes a request's tool calls need, whether a token's scopes cover
them, and which scopes a 403 challenge names.

Whatalo documents no scope hierarchy: ``write:products`` does not include ``read:products``, and
every tool needs its own scope. The MCP 2026-07-28 revision requires a server to honour a hierarchy
where the authorization server defines one; should Whatalo define one, ``IMPLIED`` is the one place
to write it (a granted scope -> the scopes it includes), and every decision here follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .calls import tool_names

IMPLIED: Mapping[str, frozenset[str]] = {}

# A body with fewer brackets than this cannot be nested deeply enough to trouble a JSON parser.
SHALLOW = 256

# RFC 6749 §3.3 scope-token: what a challenge's quoted scope list may carry (granted scopes come
# from introspection; one outside this syntax is left out rather than break the header).
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")

# Never named in a challenge (MCP 2026-07-28, refresh tokens): a client asks for it on its own.
NEVER_CHALLENGED = frozenset({"offline_access"})


def covered(granted: Iterable[str]) -> frozenset[str]:
    """The scopes a token holding ``granted`` may use."""
    granted = frozenset(granted)
    return granted.union(*(IMPLIED.get(scope, frozenset()) for scope in granted))


def missing(granted: Iterable[str], needed: Iterable[str]) -> frozenset[str]:
    """The scopes in ``needed`` that ``granted`` does not cover."""
    return frozenset(needed) - covered(granted)


def challenge_scopes(granted: Iterable[str], needed: Iterable[str], *, modern: bool) -> list[str]:
    """The ``scope`` of the 403 ``insufficient_scope`` challenge for a call that needs ``needed``.

    Modern era (2026-07-28, SEP-2350): every scope the call needs, at once; the client adds them to
    what it holds. Legacy era (2025-11-25 and older): the token's granted scopes as well, as that
    revision recommends, because legacy clients replace their grant with the challenged scopes and
    would otherwise lose what they had.
    """
    scopes = set(needed) if modern else set(granted) | set(needed)
    return sorted(scope for scope in scopes - NEVER_CHALLENGED if SCOPE_TOKEN.fullmatch(scope))


def _plainly_no_tool_call(body: bytes) -> bool:
    """Whether ``body`` cannot hold a ``tools/call`` and is too shallow to trouble a JSON parser.

    A parser reads ``tools/call`` from these bytes only if they spell it: without a backslash no
    JSON escape (``tools\\/call``, ``\\u0074ools/call``) can, and without a NUL byte the parser
    decodes them as UTF-8, not UTF-16 or UTF-32. Such a body needs no parse here.
    """
    if b"tools/call" in body or b"\\" in body or b"\x00" in body:
        return False
    return body.count(b"[") + body.count(b"{") < SHALLOW


@dataclass(frozen=True)
class ScopeRefusal:
    """A request whose tool calls need scopes the token lacks: what they need, and what to ask for."""

    needed: frozenset[str]
    missing: frozenset[str]
    challenge: list[str]


class ToolCallPolicy:
    """The scope each tool needs (the tools table), applied to request bodies."""

    def __init__(self, tool_scopes: Mapping[str, frozenset[str]]) -> None:
        self._tool_scopes = tool_scopes

    def refusal(self, body: bytes, granted: frozenset[str], *, modern: bool) -> ScopeRefusal | None:
        """Why the tool calls in ``body`` may not run with ``granted``, or ``None`` when they may.

        Raises ``calls.MalformedBody`` for a body no JSON parser can read.
        """
        if _plainly_no_tool_call(body):
            return None
        names = tool_names(body)
        if not names:
            return None
        needed = frozenset().union(*(self._tool_scopes.get(name, frozenset()) for name in names))
        lacking = missing(granted, needed)
        if not lacking:
            return None
        return ScopeRefusal(needed, lacking, challenge_scopes(granted, needed, modern=modern))
