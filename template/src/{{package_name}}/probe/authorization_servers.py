"""The authorization servers the metadata names (RFC 8414, OpenID Connect discovery), and https everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from ..urls import AUTHORIZATION_SERVER_WELL_KNOWN, is_loopback
from .client import Unreachable
from .context import Context
from .results import Result, failed, passed, skipped

OPENID_WELL_KNOWN = "/.well-known/openid-configuration"
MAX_AUTHORIZATION_SERVERS = 3


def metadata_locations(issuer: str) -> list[str]:
    """Where MCP clients look for an issuer's metadata, in their order (MCP authorization server discovery)."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [origin + AUTHORIZATION_SERVER_WELL_KNOWN, origin + OPENID_WELL_KNOWN]
    return [
        origin + AUTHORIZATION_SERVER_WELL_KNOWN + path,
        origin + OPENID_WELL_KNOWN + path,
        origin + path + OPENID_WELL_KNOWN,
    ]


async def _issuer_metadata(ctx: Context, issuer: str) -> tuple[dict[str, Any] | None, str]:
    """The first metadata document found for ``issuer``, and what happened (or what was tried)."""
    tried = []
    for location in metadata_locations(issuer):
        answer = await ctx.client.get(location)
        document = answer.json() if answer.status == 200 else None
        if isinstance(document, dict):
            ctx.see_url("authorization server metadata", answer.url)
            if document.get("issuer") != issuer:
                seen = ctx.seen(repr(document.get("issuer")))
                return None, f"{location} says issuer {seen}, not {issuer}"
            return document, f"{issuer}: metadata at {answer.url}, issuer identical"
        tried.append(f"{location}: {ctx.describe(answer)}")
    return None, f"{issuer}: no metadata ({'; '.join(tried)})"


async def authorization_server_checks(ctx: Context) -> AsyncIterator[Result]:
    servers = (ctx.metadata or {}).get("authorization_servers")
    if not isinstance(servers, list) or not servers or not all(isinstance(s, str) for s in servers):
        for check in ("as.metadata", "as.pkce"):
            yield skipped(check, "the metadata names no authorization server")
        return
    found: dict[str, dict[str, Any]] = {}
    notes, problems = [], []
    for issuer in servers[:MAX_AUTHORIZATION_SERVERS]:
        try:
            document, note = await _issuer_metadata(ctx, issuer)
        except Unreachable as exc:
            document, note = None, f"{issuer}: {exc}"
        if document is None:
            problems.append(note)
        else:
            found[issuer] = document
            notes.append(note)
            for name, value in document.items():
                if isinstance(value, str) and (name.endswith("_endpoint") or name == "jwks_uri"):
                    ctx.see_url(f"authorization server {name}", value)
    more = (
        f" (the first {MAX_AUTHORIZATION_SERVERS} of {len(servers)})"
        if len(servers) > MAX_AUTHORIZATION_SERVERS
        else ""
    )
    yield failed("as.metadata", "; ".join(problems)) if problems else passed("as.metadata", "; ".join(notes) + more)
    if not found:
        yield skipped("as.pkce", "no authorization server metadata was found")
        return
    lacking = [i for i, d in found.items() if "S256" not in (d.get("code_challenge_methods_supported") or [])]
    if lacking:
        yield failed("as.pkce", f"no S256 in code_challenge_methods_supported of {', '.join(lacking)}")
    else:
        yield passed("as.pkce", "S256 supported")


def https_check(ctx: Context) -> Result:
    urls: dict[str, str] = {}  # each URL once, named for where it first appeared
    for what, url in [("URL", ctx.url), *ctx.urls]:
        urls.setdefault(url, what)
    plain = [f"{what} {ctx.seen(url)}" for url, what in urls.items() if not _https_or_loopback(url)]
    if plain:
        return failed("transport.https", "not https: " + "; ".join(plain))
    loopback = any(urlsplit(url).scheme == "http" for url in urls)
    return passed(
        "transport.https", f"{len(urls)} URLs, " + ("http:// only on loopback" if loopback else "all https://")
    )


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or is_loopback(parts.hostname)
