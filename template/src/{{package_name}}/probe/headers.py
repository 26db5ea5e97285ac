"""Malformed ``Authorization`` headers and a token in the query string (RFC 6750 §2, §3.1).

With ``--token`` the malformed variants embed the real token (sent to URL only): a server that
takes the first of two headers, or the first word of ``Bearer <token> junk``, then answers 200
and the check fails. Without it, well-formed fake tokens stand in.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from urllib.parse import quote

from . import rpc
from .challenges import ChallengeSyntaxError, bearer_challenge
from .client import Answer, Headers, Unreachable
from .context import Context, bearer_of, echoed, fake_token
from .results import Result, failed, passed, skipped

OVERSIZED = 10_000


async def _initialize(ctx: Context, headers: Headers, *, query: str = "") -> Answer:
    """An ``initialize`` (a request any legacy server takes without a session) with these headers."""
    return await ctx.client.post([*rpc.BASE_HEADERS, *headers], rpc.body(rpc.initialize(ctx.next_id())), query=query)


async def close_session(ctx: Context, answer: Answer) -> None:
    """End a session an accepted request opened (with the token, to URL), so a probe leaves none behind."""
    if ctx.token and answer.session_id and 200 <= answer.status < 300:
        headers = [("Authorization", f"Bearer {ctx.token}"), ("Mcp-Session-Id", answer.session_id)]
        try:
            await ctx.client.delete(headers)
        except Unreachable:
            pass


async def _refused(ctx: Context, check: str, variants: list[tuple[Headers, list[str]]], statuses: set[int]) -> Result:
    """Each variant (headers, what of it must not come back) refused with one of ``statuses``."""
    seen = []
    for headers, sent in variants:
        try:
            answer = await _initialize(ctx, headers)
        except Unreachable as exc:
            return failed(check, str(exc))
        await close_session(ctx, answer)
        if answer.status not in statuses:
            accepted = " (accepted)" if 200 <= answer.status < 300 else ""
            return failed(check, f"{ctx.describe(answer)}{accepted}")
        if answer.status == 401 and bearer_of(answer)[0] is None:
            return failed(check, f"401 without a Bearer challenge: {ctx.describe(answer)}")
        if any(echoed(answer, text) for text in sent):
            return failed(check, f"the answer repeats what was sent: {ctx.describe(answer)}")
        error = _error(answer)
        seen.append(f"{answer.status}" + (f" {error}" if error else ""))
    return passed(check, ", ".join(seen) + ", nothing echoed")


def _error(answer: Answer) -> str | None:
    try:
        challenge = bearer_challenge(answer.challenges())
    except ChallengeSyntaxError:
        return None
    return challenge.params.get("error") if challenge else None


async def header_checks(ctx: Context) -> AsyncIterator[Result]:
    credential = ctx.token or fake_token()
    other = fake_token()
    yield await _refused(ctx, "header.empty", [([("Authorization", "Bearer")], [])], {400, 401})
    junk = secrets.token_hex(8)
    yield await _refused(
        ctx, "header.syntax", [([("Authorization", f"Bearer {credential} {junk}")], [credential, junk])], {400, 401}
    )
    first, second = ("Authorization", f"Bearer {credential}"), ("Authorization", f"Bearer {other}")
    both = [credential, other]
    yield await _refused(ctx, "header.duplicate", [([first, second], both), ([second, first], both)], {400, 401})
    long = secrets.token_urlsafe(OVERSIZED)[:OVERSIZED]
    yield await _refused(ctx, "header.oversized", [([("Authorization", f"Bearer {long}")], [long])], {400, 401, 431})
    yield await _scheme_case(ctx)
    yield await _query_token(ctx)


async def _scheme_case(ctx: Context) -> Result:
    if not ctx.token:
        return skipped("header.scheme_case", ctx.no_token)
    try:
        answer = await _initialize(ctx, [("Authorization", f"bEaReR {ctx.token}")])
        await close_session(ctx, answer)
        if 200 <= answer.status < 300:
            return passed("header.scheme_case", f"bEaReR accepted ({answer.status})")
        baseline = await _initialize(ctx, [("Authorization", f"Bearer {ctx.token}")])
        await close_session(ctx, baseline)
    except Unreachable as exc:
        return failed("header.scheme_case", str(exc))
    if 200 <= baseline.status < 300:
        return failed("header.scheme_case", f"bEaReR refused ({ctx.describe(answer)}) while Bearer is accepted")
    return skipped("header.scheme_case", f"initialize fails with Bearer as well ({ctx.describe(baseline)})")


async def _query_token(ctx: Context) -> Result:
    # A made-up token, even with --token: a real one in a URL lands in access logs (RFC 6750 §5.3).
    # A server that reads the query answers it unlike a request without credentials, or not 401.
    token = fake_token()
    existing = ctx.client.endpoint.query.decode()
    query = (existing + "&" if existing else "") + "access_token=" + quote(token, safe="")
    try:
        answer = await _initialize(ctx, [], query=query)
    except Unreachable as exc:
        return failed("query.token", str(exc))
    await close_session(ctx, answer)
    whose = "a made-up token"
    if answer.status != 401:
        accepted = f" ({whose} in the query authenticated the request)" if 200 <= answer.status < 300 else ""
        return failed("query.token", f"{ctx.describe(answer)}{accepted}")
    baseline = _error(ctx.no_credentials) if ctx.no_credentials else None
    if _error(answer) != baseline:
        return failed("query.token", f"{whose} in the query was read: {ctx.describe(answer)}")
    return passed("query.token", f"401 as without credentials ({whose} in the query)")
