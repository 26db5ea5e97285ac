"""What every tool module shares: the tool specification and argument types.

A tool is a plain async function with typed arguments; its docstring is the
description a model reads. ``ToolSpec`` adds what the server needs to know
about it: the one OAuth scope it requires and its MCP annotations.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

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


def query(**params: Any) -> dict[str, str | int | float]:
    """Query parameters for a Whatalo list endpoint, without the unset ones."""
    out: dict[str, str | int | float] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body for a create or update call, without the unset fields."""
    return {key: value for key, value in fields.items() if value is not None}
