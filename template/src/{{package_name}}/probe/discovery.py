"""The challenge without credentials, and the protected resource metadata found from it (RFC 9728)."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from ..urls import PROTECTED_RESOURCE_WELL_KNOWN
from . import rpc
from .client import Answer, Unreachable
from .context import Context, bearer_of
from .results import Result, failed, passed, skipped

ERROR_PARAMS = ("error", "error_description", "error_uri")
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3
CORS_ORIGIN = "https://probe.example"


def _no_error(answer: Answer, ctx: Context, check: str) -> Result:
    if answer.status != 401:
        return failed(check, ctx.describe(answer))
    challenge, problem = bearer_of(answer)
    if challenge is None:
        return failed(check, f"{ctx.describe(answer)} ({problem})")
    present = [name for name in ERROR_PARAMS if name in challenge.params]
    if present:
        return failed(check, f"the challenge has {', '.join(present)}: {ctx.describe(answer)}")
    return passed(check, "401, Bearer challenge without an error code")


async def challenge_checks(ctx: Context) -> AsyncIterator[Result]:
    headers = rpc.BASE_HEADERS
    try:
        answer = await ctx.client.post(headers, rpc.body(rpc.initialize(ctx.next_id())))
    except Unreachable as exc:
        yield failed("challenge.status", str(exc))
        return
    ctx.no_credentials = answer
    if answer.status != 401 or not answer.challenges():
        why = " (the endpoint answers without credentials)" if 200 <= answer.status < 300 else ""
        yield failed("challenge.status", ctx.describe(answer) + why)
        return
    yield passed("challenge.status", ctx.describe(answer))
    challenge, problem = bearer_of(answer)
    if challenge is None:
        yield failed("challenge.bearer", f"{problem}: {ctx.seen(', '.join(answer.challenges()))}")
        return
    if challenge.repeated:
        yield failed("challenge.bearer", f"repeated parameter(s) {', '.join(sorted(challenge.repeated))}")
    else:
        yield passed("challenge.bearer", f"parameters {ctx.seen(', '.join(challenge.params)) or '(none)'}")
    ctx.challenge = challenge
    metadata = challenge.params.get("resource_metadata")
    if metadata is None:
        yield failed("challenge.resource_metadata", "no resource_metadata parameter")
    elif not _absolute(metadata):
        yield failed("challenge.resource_metadata", f"not an absolute http(s) URL: {ctx.seen(metadata)}")
    else:
        ctx.see_url("resource_metadata", metadata)
        yield passed("challenge.resource_metadata", ctx.seen(metadata))
    scope = challenge.params.get("scope")
    if scope is None:
        yield failed("challenge.scope", "no scope parameter")
    elif not scope.split() or not all(SCOPE_TOKEN.fullmatch(s) for s in scope.split()):
        yield failed("challenge.scope", f"not a list of RFC 6749 scope tokens: {ctx.seen(scope)!r}")
    elif "offline_access" in scope.split():
        yield failed("challenge.scope", f"names offline_access: {ctx.seen(scope)}")
    else:
        yield passed("challenge.scope", ctx.seen(scope))
    yield _no_error(answer, ctx, "challenge.no_error")
    basic = "Basic " + base64.b64encode(b"probe:probe").decode()
    try:
        other = await ctx.client.post([*headers, ("Authorization", basic)], rpc.body(rpc.initialize(ctx.next_id())))
    except Unreachable as exc:
        yield failed("challenge.other_scheme", str(exc))
        return
    yield _no_error(other, ctx, "challenge.other_scheme")


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def well_known_locations(url: str) -> list[str]:
    """Where clients look for the metadata without ``resource_metadata``: path-suffixed, then root."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    root = origin + PROTECTED_RESOURCE_WELL_KNOWN
    return [origin + PROTECTED_RESOURCE_WELL_KNOWN + path, root] if path else [root]


def derived_location(resource: str) -> str:
    """RFC 9728 §3.1: the well-known segment between host and path (a final ``/`` removed)."""
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{PROTECTED_RESOURCE_WELL_KNOWN}{parts.path.rstrip('/')}"


def resource_accepted(url: str, resource: str) -> bool:
    """Whether MCP clients accept ``resource`` for the endpoint ``url``: the same origin, and
    ``resource``'s path a prefix of ``url``'s at a segment boundary (the SDKs' rule)."""
    a, b = urlsplit(url), urlsplit(resource)
    if (a.scheme.lower(), a.netloc.lower()) != (b.scheme.lower(), b.netloc.lower()):
        return False
    return (a.path.rstrip("/") + "/").startswith(b.path.rstrip("/") + "/")


def _document_problem(answer: Answer) -> str | None:
    if answer.status != 200:
        return f"HTTP {answer.status}"
    if not answer.is_json:
        return f"Content-Type {answer.content_type or '(none)'}, not application/json"
    if not isinstance(answer.json(), dict):
        return "the body is not a JSON object"
    return None


async def _fetch_metadata(ctx: Context) -> tuple[Answer | None, str]:
    """The metadata as a client finds it, and how it was found (or why not)."""
    pointed = ctx.challenge.params.get("resource_metadata") if ctx.challenge else None
    if pointed and _absolute(pointed):
        answer = await ctx.client.get(pointed)
        problem = _document_problem(answer)
        if problem:
            return None, f"{pointed} (the challenge's resource_metadata): {problem}: {ctx.describe(answer)}"
        return answer, f"at {answer.url} (the challenge's resource_metadata)"
    tried = []
    for location in well_known_locations(ctx.url):
        answer = await ctx.client.get(location)
        problem = _document_problem(answer)
        if problem is None:
            return answer, f"at {answer.url} (well-known location; no resource_metadata in the challenge)"
        tried.append(f"{location}: {problem}")
    return None, "; ".join(tried)


async def metadata_checks(ctx: Context) -> AsyncIterator[Result]:
    later = ("metadata.resource", "metadata.location", "metadata.authorization_servers", "metadata.cors")
    try:
        found, how = await _fetch_metadata(ctx)
    except Unreachable as exc:
        found, how = None, str(exc)
    if found is None:
        yield failed("metadata.discovery", ctx.seen(how))
        for check in later:
            yield skipped(check, "no protected resource metadata found")
        return
    document: dict[str, Any] = found.json()
    ctx.metadata = document
    ctx.see_url("metadata URL", found.url)
    yield passed("metadata.discovery", how)
    resource = document.get("resource")
    if not isinstance(resource, str) or not _absolute(resource) or "#" in resource:
        yield failed("metadata.resource", f"resource is {ctx.seen(repr(resource))}")
        yield skipped("metadata.location", "resource is not a usable URL")
    else:
        ctx.see_url("resource", resource)
        if resource_accepted(ctx.url, resource):
            relation = "equals URL" if resource.rstrip("/") == ctx.url.rstrip("/") else "is a parent of URL"
            yield passed("metadata.resource", f"{resource} {relation}")
        else:
            yield failed("metadata.resource", f"{ctx.seen(resource)} is neither URL nor a parent of it")
        yield await _location_check(ctx, resource, found)
    servers = document.get("authorization_servers")
    if isinstance(servers, list) and servers and all(isinstance(s, str) and _absolute(s) for s in servers):
        for server in servers:
            ctx.see_url("authorization server", server)
        yield passed("metadata.authorization_servers", ", ".join(servers))
    else:
        yield failed("metadata.authorization_servers", f"authorization_servers is {ctx.seen(repr(servers))}")
    yield await _cors_check(ctx, found.url)


async def _location_check(ctx: Context, resource: str, found: Answer) -> Result:
    location = derived_location(resource)
    if location in (found.url, *found.redirected_from):
        return passed("metadata.location", f"found at {location}, the location derived from resource")
    try:
        answer = await ctx.client.get(location)
    except Unreachable as exc:
        return failed("metadata.location", f"{location}: {exc}")
    problem = _document_problem(answer)
    if problem:
        return failed("metadata.location", f"{location}: {problem}")
    if answer.json() != found.json():
        return failed("metadata.location", f"{location} serves another document than {found.url}")
    return passed("metadata.location", f"{location} serves the same document")


async def _cors_check(ctx: Context, url: str) -> Result:
    try:
        read = await ctx.client.get(url, [("Origin", CORS_ORIGIN)])
        preflight = await ctx.client.options(url, [("Origin", CORS_ORIGIN), ("Access-Control-Request-Method", "GET")])
    except Unreachable as exc:
        return failed("metadata.cors", str(exc))
    problems = []
    for label, answer in (("GET", read), ("preflight", preflight)):
        allowed = answer.headers.get("access-control-allow-origin")
        if allowed not in ("*", CORS_ORIGIN):
            problems.append(f"{label}: {answer.status}, Access-Control-Allow-Origin {ctx.seen(repr(allowed))}")
        elif not 200 <= answer.status < 300:
            problems.append(f"{label}: HTTP {answer.status}")
    if problems:
        return failed("metadata.cors", "; ".join(problems))
    return passed("metadata.cors", f"GET and preflight allow origin {CORS_ORIGIN}")
