"""With ``--token``: ``tools/list`` in both protocol eras, and the 403 step-up challenge of a tool
whose scope the token lacks.

The probe cannot know which scope each tool of an arbitrary server needs, and it runs against
live deployments, so it only ever calls tools annotated ``readOnlyHint: true``, with no arguments
(a tool that needs some then fails validation instead of running), those with required arguments
first, at most ``MAX_TOOL_CALLS`` of them: the first one answered 403 is the step-up case. A token
holding every scope of those tools leaves nothing to refuse, and the checks are skipped. A server
that requires a scope of every call (the bare SDK's ``required_scopes``) refuses ``initialize`` or
``tools/list`` itself when the token lacks it: that 403 is the step-up case then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from . import rpc
from .client import Answer, Headers, Unreachable
from .context import Context, bearer_of
from .results import Result, failed, passed, skipped

MAX_TOOL_CALLS = 8
CHECKS = ("tools.list.legacy", "tools.list.modern", "step_up.modern", "step_up.legacy")
NARROWER = (
    "to test step-up, give a token that lacks the scope of one read-only tool (for instance a token "
    "granted a single scope)"
)


@dataclass
class Era:
    modern: bool
    version: str = rpc.MODERN
    session_id: str | None = None
    tools: list[dict[str, Any]] | None = None
    problem: str | None = None  # why tools/list failed
    refused: tuple[str, Answer] | None = None  # a 403 to initialize or tools/list: the call, the answer

    @property
    def name(self) -> str:
        return "modern" if self.modern else "legacy"

    def headers(self, method: str, name: str | None = None) -> Headers:
        if self.modern:
            return rpc.modern_headers(method, name)
        return rpc.legacy_headers(self.version, self.session_id)


def _auth(ctx: Context) -> Headers:
    return [("Authorization", f"Bearer {ctx.token}")]


async def _rpc(ctx: Context, era: Era, method: str, params: dict[str, Any], name: str | None = None) -> Answer:
    message = rpc.request(ctx.next_id(), method, params, modern=era.modern)
    return await ctx.client.post([*era.headers(method, name), *_auth(ctx)], rpc.body(message))


def _tools(ctx: Context, era: Era, answer: Answer) -> None:
    if answer.status == 403:
        era.refused = ("tools/list", answer)
    reply = rpc.reply(answer, ctx.describe(answer))
    tools = reply.result.get("tools") if reply.result else None
    if isinstance(tools, list) and all(isinstance(tool, dict) for tool in tools):
        era.tools = tools
    else:
        era.problem = reply.problem or "the result has no tools array"


async def _open_legacy(ctx: Context) -> Era:
    era = Era(modern=False, version=rpc.LEGACY)
    headers = [*rpc.BASE_HEADERS, *_auth(ctx)]
    answer = await ctx.client.post(headers, rpc.body(rpc.initialize(ctx.next_id())))
    reply = rpc.reply(answer, ctx.describe(answer))
    version = reply.result.get("protocolVersion") if reply.result else None
    if answer.status == 403:
        era.refused = ("initialize", answer)
    if not isinstance(version, str):
        era.problem = f"initialize: {reply.problem or 'no protocolVersion in its result'}"
        return era
    era.version, era.session_id = version, answer.session_id
    await ctx.client.post([*era.headers("notifications/initialized"), *_auth(ctx)], rpc.body(rpc.INITIALIZED))
    _tools(ctx, era, await _rpc(ctx, era, "tools/list", {}))
    return era


async def _list_modern(ctx: Context) -> Era:
    era = Era(modern=True)
    _tools(ctx, era, await _rpc(ctx, era, "tools/list", {}))
    return era


def _listed(era: Era) -> Result:
    check = f"tools.list.{era.name}"
    if era.tools is None:
        return failed(check, era.problem or "no answer")
    version = f"protocol {era.version}" + (", session" if era.session_id else ", no session")
    count = len(era.tools)
    return passed(check, f"{count} tool{'' if count == 1 else 's'} ({version})")


def read_only_candidates(tools: list[dict[str, Any]]) -> list[str]:
    """Names of the tools the probe may call: annotated read-only; those that need arguments first."""
    chosen = []
    for tool in tools:
        name, annotations = tool.get("name"), tool.get("annotations") or {}
        if isinstance(name, str) and rpc.header_safe(name) and annotations.get("readOnlyHint") is True:
            required = (tool.get("inputSchema") or {}).get("required") or []
            chosen.append((not required, name))
    return [name for _, name in sorted(chosen, key=lambda item: item[0])][:MAX_TOOL_CALLS]


async def _call(ctx: Context, era: Era, name: str) -> Answer:
    return await _rpc(ctx, era, "tools/call", {"name": name, "arguments": {}}, name)


def _step_up(ctx: Context, era: Era, call: str, answer: Answer, needed: set[str] | None) -> tuple[Result, set[str]]:
    """The check of the answer to ``call`` (a 403 is due), and the scopes it named; ``needed``: those
    the modern era named, which the legacy era must name as well."""
    check = f"step_up.{era.name}"
    challenge, problem = bearer_of(answer)
    if answer.status != 403 or challenge is None:
        return failed(check, f"{call}: {ctx.describe(answer)}" + (f" ({problem})" if problem else "")), set()
    scope = challenge.params.get("scope", "")
    scopes = set(scope.split())
    problems = []
    if challenge.params.get("error") != "insufficient_scope":
        problems.append(f"error is {challenge.params.get('error')!r}, not insufficient_scope")
    if not scopes:
        problems.append("no scope parameter naming what the call needs")
    if "resource_metadata" not in challenge.params:
        problems.append("no resource_metadata parameter")
    if era.modern and "offline_access" in scopes:
        problems.append("names offline_access")
    if needed is not None and not needed <= scopes:
        problems.append(f"does not name {' '.join(sorted(needed - scopes))}, which the modern era named")
    if problems:
        return failed(check, f"{call}: 403, but {'; '.join(problems)}: {ctx.describe(answer)}"), scopes
    return passed(check, f'{call}: 403 insufficient_scope, scope="{ctx.seen(scope)}"'), scopes


async def _search(ctx: Context, era: Era, names: list[str]) -> tuple[str | None, Answer | None, str | None]:
    """The first tool of ``names`` refused 403 in ``era`` with its answer; or why none was (a problem)."""
    for name in names:
        answer = await _call(ctx, era, name)
        if answer.status == 403:
            return name, answer, None
        if answer.status != 200:
            return name, answer, f"tools/call {name}: {ctx.describe(answer)}"
    return None, None, None


async def tool_checks(ctx: Context) -> AsyncIterator[Result]:
    if not ctx.token:
        for check in CHECKS:
            yield skipped(check, ctx.no_token)
        return
    try:
        modern = await _list_modern(ctx)
        legacy = await _open_legacy(ctx)
    except Unreachable as exc:
        for check in CHECKS:
            yield failed(check, str(exc))
        return
    yield _listed(legacy)
    yield _listed(modern)
    try:
        async for result in _step_up_checks(ctx, modern, legacy):
            yield result
    finally:
        if legacy.session_id:
            headers = [*legacy.headers("DELETE"), *_auth(ctx)]
            try:
                await ctx.client.delete(headers)
            except Unreachable:
                pass


async def _step_up_checks(ctx: Context, modern: Era, legacy: Era) -> AsyncIterator[Result]:
    needed: set[str] | None = None
    if modern.refused or legacy.refused:  # a scope every call needs, which the token lacks
        for era in (modern, legacy):
            if era.refused is None:
                yield skipped(f"step_up.{era.name}", f"the {era.name} era's calls were not refused")
                continue
            result, scopes = _step_up(ctx, era, *era.refused, needed)
            needed = scopes if era.modern else needed
            yield result
        return
    listed = modern.tools if modern.tools is not None else legacy.tools
    if listed is None:
        for era in (modern, legacy):
            yield skipped(f"step_up.{era.name}", "tools/list failed")
        return
    names = read_only_candidates(listed)
    if not names:
        reason = "no tool is annotated readOnlyHint=true, and the probe never calls one that might change data"
        for era in (modern, legacy):
            yield skipped(f"step_up.{era.name}", reason)
        return
    first = modern if modern.tools is not None else legacy
    name, answer, problem = await _search(ctx, first, names)
    if problem is not None or name is None or answer is None:
        reason = problem or (
            f"none of the read-only tools tried ({', '.join(names)}) was refused: the token holds their scopes; "
            + NARROWER
        )
        for era in (modern, legacy):
            if problem is not None and era is first:
                yield failed(f"step_up.{era.name}", problem)
            else:
                yield skipped(f"step_up.{era.name}", reason)
        return
    if first is modern:
        result, needed = _step_up(ctx, modern, f"tools/call {name}", answer, None)
        yield result
    else:
        yield skipped("step_up.modern", "tools/list failed in the modern era")
    if legacy.tools is None:
        yield skipped("step_up.legacy", "tools/list failed in the legacy era")
        return
    if first is not legacy:
        answer = await _call(ctx, legacy, name)
    yield _step_up(ctx, legacy, f"tools/call {name}", answer, needed)[0]
