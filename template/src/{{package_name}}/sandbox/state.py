"""The sandbox's memory: issued tokens, registered clients, store data and counters."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .data import StoreData, demo_stores

ACCESS_TOKEN_LIFETIME = 3600
EXCHANGED_TOKEN_LIFETIME = 900


@dataclass
class IssuedToken:
    """An access token the sandbox issued, and what introspection says about it."""

    sub: str
    client_id: str
    store_id: str
    scopes: frozenset[str]
    aud: str
    iat: int
    exp: int
    token_type: str = "access_token"
    revoked: bool = False
    # Test hook: members to add to (or, with the value None, remove from) the
    # introspection answer, e.g. a wrong ``iss`` or a missing store id.
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApiFault:
    """The next REST API call answers this error instead of doing its work."""

    status: int
    code: str
    message: str
    retry_after: int | None = None


@dataclass
class Counters:
    introspections: int = 0
    exchanges: int = 0
    api_calls: int = 0


class SandboxState:
    """Everything the sandbox knows. One instance per sandbox process (or test)."""

    def __init__(self, issuer: str = "http://127.0.0.1:9000", api_url: str | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.api_url = (api_url or self.issuer).rstrip("/")
        self.stores: dict[str, StoreData] = demo_stores()
        self.tokens: dict[str, IssuedToken] = {}
        self.clients: dict[str, str] = {}
        self.counters = Counters()
        # Bearer tokens the REST API received, so tests can prove that the MCP
        # server never forwards the token its client sent (no passthrough).
        self.api_bearer_tokens: list[str] = []
        # Test hooks.
        self.introspection_delay: float = 0.0
        self.introspection_fault: tuple[int, str] | None = None
        self.api_faults: list[ApiFault] = []

    # -- clients ---------------------------------------------------------------

    def register_confidential_client(self, client_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        """Register a confidential client (the MCP server's own credentials)."""
        client_id = client_id or f"rs_{secrets.token_hex(8)}"
        secret = secret or secrets.token_urlsafe(32)
        self.clients[client_id] = secret
        return client_id, secret

    def client_secret_ok(self, client_id: str, secret: str) -> bool:
        expected = self.clients.get(client_id)
        return expected is not None and secrets.compare_digest(expected.encode(), secret.encode())

    def fail_next_api_call(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        """Make the next REST API call answer this error (a test hook)."""
        self.api_faults.append(ApiFault(status, code, message, retry_after))

    # -- tokens ----------------------------------------------------------------

    def mint(
        self,
        store_id: str,
        scopes: str | list[str] | frozenset[str],
        audience: str,
        *,
        expires_in: int = ACCESS_TOKEN_LIFETIME,
        sub: str | None = None,
        client_id: str = "sandbox-mcp-client",
        token_type: str = "access_token",
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """Issue an access token for one store, as the consent screen would."""
        if store_id not in self.stores:
            raise KeyError(f"unknown sandbox store {store_id!r}; known: {', '.join(self.stores)}")
        scope_set = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
        now = int(time.time())
        token = secrets.token_urlsafe(32)
        self.tokens[token] = IssuedToken(
            sub=sub or self.stores[store_id].owner_sub,
            client_id=client_id,
            store_id=store_id,
            scopes=scope_set,
            aud=audience,
            iat=now,
            exp=now + expires_in,
            token_type=token_type,
            overrides=dict(overrides or {}),
        )
        return token

    def revoke(self, token: str) -> None:
        issued = self.tokens.get(token)
        if issued is not None:
            issued.revoked = True

    def active(self, token: str) -> IssuedToken | None:
        """The token if it is known, unrevoked and unexpired."""
        issued = self.tokens.get(token)
        if issued is None or issued.revoked or issued.exp <= time.time():
            return None
        return issued

    def introspect(self, token: str) -> dict[str, Any]:
        """The RFC 7662 answer for ``token``."""
        issued = self.active(token)
        if issued is None:
            return {"active": False}
        answer: dict[str, Any] = {
            "active": True,
            "scope": " ".join(sorted(issued.scopes)),
            "client_id": issued.client_id,
            "sub": issued.sub,
            "exp": issued.exp,
            "iat": issued.iat,
            "token_type": "Bearer" if issued.token_type == "access_token" else issued.token_type,
            "aud": issued.aud,
            "iss": self.issuer,
            "whatalo_store_id": issued.store_id,
        }
        for key, value in issued.overrides.items():
            if value is None:
                answer.pop(key, None)
            else:
                answer[key] = value
        return answer

    def exchange(self, subject: IssuedToken, client_id: str, scopes: frozenset[str], audience: str) -> tuple[str, int]:
        """RFC 8693: a token for ``audience`` with ``scopes``, same user and store."""
        now = int(time.time())
        lifetime = max(1, min(EXCHANGED_TOKEN_LIFETIME, subject.exp - now))
        token = self.mint(
            subject.store_id,
            scopes,
            audience,
            expires_in=lifetime,
            sub=subject.sub,
            client_id=client_id,
        )
        return token, lifetime
