"""The sandbox's memory: clients, consents, codes, tokens and their families, store data, counters."""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .demo import demo_stores
from .model import StoreData

ACCESS_TOKEN_LIFETIME = 3600
EXCHANGED_TOKEN_LIFETIME = 900
REFRESH_TOKEN_LIFETIME = 30 * 86400
CODE_LIFETIME = 600  # RFC 6749 §4.1.2: short-lived, ten minutes at most
CONSENT_LIFETIME = 600  # an unanswered consent page expires
REGISTRATIONS_PER_HOUR = 10  # Whatalo: 10 registrations per IP and hour
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


@dataclass
class Client:
    """A registered OAuth client: an MCP host by DCR, or a resource server's own credentials."""

    client_id: str
    secret: str | None  # None: a public client (token_endpoint_auth_method "none")
    name: str
    redirect_uris: list[str] = field(default_factory=list)
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code"])
    scopes: frozenset[str] | None = None  # what it may ask for; None: any scope
    metadata: dict[str, Any] = field(default_factory=dict)  # the registration, as answered

    @property
    def confidential(self) -> bool:
        return self.secret is not None


@dataclass
class Consent:
    """An authorization request waiting on the consent page."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str
    audience: str
    expires: float


@dataclass
class Grant:
    """What the merchant approved: one store, some scopes, for one client and audience."""

    client_id: str
    store_id: str
    sub: str
    scopes: frozenset[str]
    audience: str


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    code_challenge: str
    expires: float
    family: str | None = None  # set once redeemed: a second use revokes what the first issued


@dataclass
class RefreshToken:
    grant: Grant
    family: str
    expires: float
    rotated: bool = False


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
    family: str | None = None  # the code or refresh token chain it came from
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
        self.clients: dict[str, Client] = {}
        self.consents: dict[str, Consent] = {}
        self.codes: dict[str, Code] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.revoked_families: set[str] = set()
        self.registrations: dict[str, deque[float]] = {}
        # client_id -> the store of its latest consent, pre-selected on its next consent page (a
        # step-up widens the grant of the same store unless the merchant picks another).
        self.last_store: dict[str, str] = {}
        self.registrations_per_hour = REGISTRATIONS_PER_HOUR
        self.counters = Counters()
        # Bearer tokens the REST API received, so tests can prove that the MCP
        # server never forwards the token its client sent (no passthrough).
        self.api_bearer_tokens: list[str] = []
        # (path, traceparent) of every request that carried one: the MCP server propagates its traces.
        self.traceparents: list[tuple[str, str]] = []
        # Test hooks.
        self.introspection_delay: float = 0.0
        # (status, body) or (status, body, headers): the introspection endpoint's answer instead.
        self.introspection_fault: tuple[int, str] | tuple[int, str, dict[str, str]] | None = None
        self.api_faults: list[ApiFault] = []

    # -- clients ---------------------------------------------------------------

    def register_confidential_client(self, client_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        """Register a confidential client (the MCP server's own credentials: introspection, token exchange)."""
        client_id = client_id or f"rs_{secrets.token_hex(8)}"
        secret = secret or secrets.token_urlsafe(32)
        self.clients[client_id] = Client(client_id, secret, "MCP server", grant_types=[TOKEN_EXCHANGE])
        return client_id, secret

    def register(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def registration_allowed(self, address: str) -> int | None:
        """None when ``address`` may register one more client now, else the seconds to wait."""
        now = time.monotonic()
        recent = self.registrations.setdefault(address, deque())
        while recent and now - recent[0] >= 3600:
            recent.popleft()
        if len(recent) >= self.registrations_per_hour:
            return max(1, int(3600 - (now - recent[0])) + 1)
        recent.append(now)
        return None

    def client_secret_ok(self, client_id: str, secret: str) -> bool:
        client = self.clients.get(client_id)
        expected = client.secret if client is not None else None
        return expected is not None and secrets.compare_digest(expected.encode(), secret.encode())

    def every_secret(self) -> set[str]:
        """Every token, code and client secret the sandbox handed out (the tests' log canary)."""
        secrets_ = {client.secret for client in self.clients.values() if client.secret}
        return secrets_ | set(self.tokens) | set(self.refresh_tokens) | set(self.codes)

    # -- authorization code flow ----------------------------------------------

    def start_consent(self, consent: Consent) -> str:
        consent_id = secrets.token_urlsafe(24)
        now = time.monotonic()
        self.consents = {k: v for k, v in self.consents.items() if v.expires > now}
        self.consents[consent_id] = consent
        return consent_id

    def take_consent(self, consent_id: str) -> Consent | None:
        """The waiting request, once: answering it twice (a double submit, a replay) finds nothing."""
        consent = self.consents.pop(consent_id, None)
        return consent if consent is not None and consent.expires > time.monotonic() else None

    def issue_code(self, consent: Consent, grant: Grant) -> str:
        code = secrets.token_urlsafe(32)
        self.codes[code] = Code(grant, consent.redirect_uri, consent.code_challenge, time.monotonic() + CODE_LIFETIME)
        return code

    def issue_tokens(
        self, grant: Grant, family: str, *, refresh: bool, refresh_grant: Grant | None = None
    ) -> dict[str, Any]:
        """The token endpoint's answer: an access token for ``grant`` and, if allowed, a refresh token.

        The refresh token carries ``refresh_grant`` (default ``grant``): a refresh that narrows the
        access token's scope leaves the refresh token's scope as the merchant granted it (RFC 6749 §6).
        """
        access = self.mint(
            grant.store_id, grant.scopes, grant.audience, sub=grant.sub, client_id=grant.client_id, family=family
        )
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "scope": " ".join(sorted(grant.scopes)),
        }
        if refresh:
            token = secrets.token_urlsafe(32)
            self.refresh_tokens[token] = RefreshToken(
                refresh_grant or grant, family, time.time() + REFRESH_TOKEN_LIFETIME
            )
            answer["refresh_token"] = token
        return answer

    def revoke_family(self, family: str) -> None:
        """Every access and refresh token of one chain stops working (reuse detected, or revoked)."""
        self.revoked_families.add(family)

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
        family: str | None = None,
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
            family=family,
        )
        return token

    def revoke(self, token: str) -> None:
        """RFC 7009 as Whatalo does it: an access token alone; a refresh token with its whole family."""
        issued = self.tokens.get(token)
        if issued is not None:
            issued.revoked = True
        refresh = self.refresh_tokens.get(token)
        if refresh is not None:
            self.revoke_family(refresh.family)

    def owner(self, token: str) -> str | None:
        """The client an access or refresh token was issued to."""
        if token in self.tokens:
            return self.tokens[token].client_id
        refresh = self.refresh_tokens.get(token)
        return refresh.grant.client_id if refresh is not None else None

    def active(self, token: str) -> IssuedToken | None:
        """The token if it is known, unrevoked, unexpired and of a live family."""
        issued = self.tokens.get(token)
        if issued is None or issued.revoked or issued.exp <= time.time() or issued.family in self.revoked_families:
            return None
        return issued

    def live_refresh_token(self, token: str) -> RefreshToken | None:
        """The refresh token if it is known, unexpired and of a live family (rotated ones included)."""
        refresh = self.refresh_tokens.get(token)
        if refresh is None or refresh.expires <= time.time() or refresh.family in self.revoked_families:
            return None
        return refresh

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
            family=subject.family,  # revoking the subject's family revokes what was exchanged for it
        )
        return token, lifetime
