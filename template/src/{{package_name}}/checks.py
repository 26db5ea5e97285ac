"""What ``check`` verifies: the configuration against Whatalo and the cache, step by step.

Each step is a :class:`Step` with what it found and, when something is wrong, the problem and
what to do about it; nothing here prints (the command line does).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx2 as httpx

from .authorization_server import TOKEN_EXCHANGE, AuthorizationServer, AuthServerUnavailable, DiscoveryError, discover
from .cache_backend import inspect, summary
from .settings import Settings
from .urls import authorization_server_metadata_url

Problem = tuple[str, str]  # what is wrong, what to do about it


@dataclass(frozen=True)
class Step:
    label: str
    outcome: str  # "ok", "ok (...)" or "failed"
    problems: list[Problem] = field(default_factory=list)


async def run_checks(settings: Settings) -> AsyncIterator[Step]:
    """The steps in order; discovery failing ends the checks of Whatalo (nothing after it can work)."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=settings.introspection_timeout) as http:
        label = f"discovery at {authorization_server_metadata_url(settings.whatalo_issuer)}"
        try:
            metadata = await discover(http, settings.whatalo_issuer, settings.introspection_timeout)
        except DiscoveryError as exc:
            yield Step(label, "failed", [(f"discovery: {exc}", exc.hint)])
            return
        problems = []
        grants = metadata.document.get("grant_types_supported")
        if isinstance(grants, list) and TOKEN_EXCHANGE not in grants:
            problems.append(
                (
                    "discovery: the authorization server does not list token exchange (RFC 8693), which tools need",
                    "tools call Whatalo's API with exchanged tokens; ask Whatalo to enable the grant for this client",
                )
            )
        methods = metadata.document.get("introspection_endpoint_auth_methods_supported")
        if isinstance(methods, list) and settings.whatalo_client_auth_method not in methods:
            problems.append(
                (
                    f"discovery: introspection does not accept {settings.whatalo_client_auth_method}",
                    f"set WHATALO_CLIENT_AUTH_METHOD to one of {', '.join(map(str, methods))}",
                )
            )
        yield Step(label, "ok (issuer matches)", problems)
        label = f"introspection credentials at {metadata.introspection_endpoint}"
        problem = await _introspection_problem(AuthorizationServer(http, settings, metadata))
        yield Step(label, "ok (credentials accepted)" if problem is None else "failed", [problem] if problem else [])
    outcome, problems = await inspect(settings)
    yield Step(f"cache ({summary(settings)})", outcome, problems)


async def _introspection_problem(authorization_server: AuthorizationServer) -> Problem | None:
    """What is wrong with introspecting with this server's credentials, if anything."""
    try:
        # A random token that cannot exist: a well-configured server gets {"active": false}.
        await authorization_server.introspect(secrets.token_urlsafe(32))
    except AuthServerUnavailable as exc:
        if exc.credentials_refused:
            return (
                f"introspection: {exc}",
                "check WHATALO_CLIENT_ID, WHATALO_CLIENT_SECRET and WHATALO_CLIENT_AUTH_METHOD",
            )
        return f"introspection: {exc}", "retry later, check the network and WHATALO_ISSUER; if it lasts, ask Whatalo"
    return None
