"""One probe run: every check of ``results.CATALOG``, in its order, against one MCP endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from ..urls import is_loopback
from .authorization_servers import authorization_server_checks, https_check
from .client import BudgetExhausted, ProbeClient, TokenGuard
from .context import Context
from .discovery import challenge_checks, metadata_checks
from .headers import header_checks
from .results import CATALOG, Result, failed, skipped
from .tool_calls import tool_checks


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be probed (not an absolute http(s) URL, or with a fragment), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "URL is malformed"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"URL must be an absolute http:// or https:// URL, got {url!r}"
    if parts.fragment:
        return "URL must not have a fragment"
    if parts.username or parts.password:
        return "URL must not contain credentials (user:password@)"
    return None


async def run_probe(url: str, token: str | None) -> AsyncIterator[Result]:
    """Each check's result as it completes. Raises ``ValueError`` for a URL that cannot be probed.

    The token is used only when URL is ``https://`` or on loopback: it is never sent in clear text
    across a network (the checks that need it are skipped, and transport.https fails).
    """
    problem = endpoint_problem(url)
    if problem:
        raise ValueError(problem)
    parts = urlsplit(url)
    plain = parts.scheme == "http" and not is_loopback(parts.hostname)
    client = ProbeClient(url, None if plain else token)
    ctx = Context(url=url, token=client.token, client=client)
    if plain and token:
        ctx.no_token = "the token is not sent over plain http:// to a host off loopback"
    order = list(CATALOG)
    reported: set[str] = set()

    def report(result: Result) -> list[Result]:
        """``result``, after a skip for each earlier check a failed prerequisite left out."""
        left_out = [c for c in order[: order.index(result.id)] if c not in reported]
        results = [skipped(c, "an earlier check it depends on failed") for c in left_out]
        results.append(Result(result.id, result.status, ctx.clean(result.detail)))
        reported.update(r.id for r in results)
        return results

    try:
        for group in (challenge_checks, metadata_checks, authorization_server_checks):
            async for result in group(ctx):
                for item in report(result):
                    yield item
        for item in report(https_check(ctx)):
            yield item
        for group in (header_checks, tool_checks):
            async for result in group(ctx):
                for item in report(result):
                    yield item
    except (BudgetExhausted, TokenGuard) as exc:
        for check in order:
            if check not in reported:
                reported.add(check)
                yield failed(check, f"not run: {exc}")
    finally:
        await client.aclose()
    for check in order:  # what a failed prerequisite left out at the end
        if check not in reported:
            yield skipped(check, "an earlier check it depends on failed")
