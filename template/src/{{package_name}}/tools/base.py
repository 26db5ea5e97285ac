"""What every tool module shares: the tool specification and argument types.

A tool is a plain async function with typed arguments; its docstring is the
description a model reads. ``ToolSpec`` adds what the server needs to know
about it: the one OAuth scope it requires and its MCP annotations.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from ..whatalo_api import WhataloAPIError

Page = Annotated[int, Field(ge=1, description="Page number, starting at 1.")]
PerPage = Annotated[int, Field(ge=1, le=100, description="Results per page, from 1 to 100.")]
ResourceId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A Whatalo public ID, as returned by the list tools.",
    ),
]

ToolFunction = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool: its function, the scope it needs and its MCP annotations."""

    fn: ToolFunction
    scope: str
    read_only: bool
    destructive: bool = False
    idempotent: bool = False

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def description(self) -> str:
        return inspect.getdoc(self.fn) or ""

    @property
    def arguments(self) -> list[str]:
        """The argument names a client may send."""
        return list(inspect.signature(self.fn).parameters)

    def unknown_arguments(self, arguments: Mapping[str, Any]) -> str | None:
        """The tool error for arguments this tool does not take, or ``None`` when it takes them all.

        Both framework adapters refuse with this text (one framework would drop such arguments
        silently, the other refuse them in words of its own).
        """
        accepted = self.arguments
        unknown = sorted(set(arguments) - set(accepted))
        if not unknown:
            return None
        takes = ", ".join(accepted) or "no arguments"
        return f"{self.name}: unknown argument(s) {', '.join(unknown)}; it takes {takes}"


def query(**params: Any) -> dict[str, str | int | float]:
    """Query parameters for a Whatalo list endpoint, without the unset ones."""
    out: dict[str, str | int | float] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body for a create call, without the unset fields."""
    return {key: value for key, value in fields.items() if value is not None}


class InvalidArguments(Exception):
    """Arguments valid one by one but not together: a tool error, and nothing is sent to Whatalo."""


def reporting_errors(fn: ToolFunction, tool_error: Callable[[str], Exception]) -> ToolFunction:
    """``fn``, with Whatalo API failures and refused arguments raised as the framework's tool error.

    The message (Whatalo's code and message, the retry delay) is what the model reads.
    """

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return await fn(*args, **kwargs)
        except (WhataloAPIError, InvalidArguments) as exc:
            raise tool_error(str(exc)) from None

    return call


def changes(**fields: Any) -> dict[str, Any]:
    """The JSON body of an update: the fields given. Refuses an update that changes nothing."""
    given = body(**fields)
    if not given:
        raise InvalidArguments("nothing to change: give at least one of " + ", ".join(fields))
    return given


Money = Annotated[int, Field(ge=0, description="An amount in the store's currency, as an integer.")]
DateTime = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$",
        description="ISO 8601 date or date-time, e.g. '2024-05-01' or '2024-05-01T13:00:00Z'.",
    ),
]
