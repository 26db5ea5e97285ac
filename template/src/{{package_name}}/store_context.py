"""The store a tool call acts on, taken from the verified token and nothing else.

The authentication gate makes a :class:`StoreContext` current for the duration of
one request; tools reach Whatalo through :func:`whatalo`, which always targets
that store. Nothing a client sends (arguments, headers, session) can change it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .principal import Principal, fingerprint
from .token_exchange import Subject
from .whatalo_api import WhataloAPI


@dataclass(frozen=True)
class StoreContext:
    """Who the current request acts for (the verified principal), and the REST client it uses."""

    subject: Subject
    api: WhataloAPI = field(repr=False)

    @property
    def principal(self) -> Principal:
        return self.subject.principal

    @property
    def store_id(self) -> str:
        return self.principal.store_id

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.subject.digest)


def access_token_fields(digest: str, principal: Principal) -> dict[str, Any]:
    """The fields of an MCP SDK / FastMCP ``AccessToken`` for the token with ``digest``.

    ``token`` is ``sha256:<digest>``: tool code never sees the inbound token.
    """
    return {
        "token": "sha256:" + digest,
        "client_id": principal.client_id,
        "scopes": sorted(principal.scopes),
        "expires_at": int(principal.exp),
        "subject": principal.sub,
        "claims": principal.claims(),
    }


_current: ContextVar[StoreContext | None] = ContextVar("store_context", default=None)


def current() -> StoreContext | None:
    return _current.get()


@contextmanager
def use(context: StoreContext) -> Iterator[StoreContext]:
    """Make ``context`` the current request's for the duration of the block."""
    reset = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(reset)


class StoreClient:
    """Whatalo's REST API for the current call's store, with a token exchanged per scope.

    ``route`` is the path as Whatalo's reference writes it, ``{id}`` and all, with the ids given
    by name: ``get("/v1/products/{id}", id=product_id, scope=SCOPE)``. Never an f-string: the
    route is what traces and metrics name the request by (``http.route``), so it must not carry an id.
    """

    def __init__(self, context: StoreContext) -> None:
        self._api = context.api
        self._subject = context.subject

    async def get(
        self, route: str, *, scope: str, params: Mapping[str, str | int | float] | None = None, **ids: str
    ) -> dict[str, Any]:
        return await self._api.request(self._subject, "GET", route, ids, scope=scope, params=params)

    async def post(self, route: str, *, scope: str, json: Mapping[str, Any], **ids: str) -> dict[str, Any]:
        return await self._api.request(self._subject, "POST", route, ids, scope=scope, json=json)

    async def patch(self, route: str, *, scope: str, json: Mapping[str, Any], **ids: str) -> dict[str, Any]:
        return await self._api.request(self._subject, "PATCH", route, ids, scope=scope, json=json)

    async def delete(self, route: str, *, scope: str, **ids: str) -> dict[str, Any]:
        return await self._api.request(self._subject, "DELETE", route, ids, scope=scope)


def whatalo() -> StoreClient:
    """The REST client for the store of the token behind the current tool call."""
    context = _current.get()
    if context is None:
        raise RuntimeError("no store context: tools run only inside an authenticated MCP request")
    return StoreClient(context)
