"""The gate's answers when it does not pass a request on: status, challenge and body, in HTTP.

``WWW-Authenticate`` follows RFC 6750 §3 and RFC 9728 §5.1: every challenge
points at the protected resource metadata; ``error`` appears only when
credentials were sent; ``insufficient_scope`` names every scope the call needs
(and, for legacy-era clients, those already granted: see ``policy.challenge_scopes``).
Nothing here writes a JSON-RPC message: inside the protocol, the framework answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.responses import Response

RETRY_AFTER_SECONDS = 5


def www_authenticate(
    metadata_url: str,
    *,
    error: str | None = None,
    description: str | None = None,
    scopes: Iterable[str] = (),
) -> str:
    params = []
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{_safe(description)}"')
    scope = " ".join(scopes)
    if scope:
        params.append(f'scope="{scope}"')
    params.append(f'resource_metadata="{metadata_url}"')
    return "Bearer " + ", ".join(params)


def _safe(text: str) -> str:
    """RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E."""
    return "".join(ch for ch in text if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\')


def _json(status: int, body: dict[str, str], headers: dict[str, str]) -> Response:
    return Response(json.dumps(body), status_code=status, headers=headers, media_type="application/json")


def unauthorized(metadata_url: str, scopes: Iterable[str]) -> Response:
    """401 for a request without (Bearer) credentials: no error code (RFC 6750 §3.1)."""
    challenge = www_authenticate(metadata_url, scopes=scopes)
    body = {"error": "unauthorized", "error_description": "Bearer token required"}
    return _json(401, body, {"WWW-Authenticate": challenge})


def invalid_request(metadata_url: str, description: str) -> Response:
    challenge = www_authenticate(metadata_url, error="invalid_request", description=description)
    return _json(400, {"error": "invalid_request", "error_description": description}, {"WWW-Authenticate": challenge})


def invalid_token(metadata_url: str, description: str) -> Response:
    challenge = www_authenticate(metadata_url, error="invalid_token", description=description)
    return _json(401, {"error": "invalid_token", "error_description": description}, {"WWW-Authenticate": challenge})


def insufficient_scope(metadata_url: str, *, needed: Iterable[str], scopes: list[str]) -> Response:
    """403 for a call that needs ``needed``; ``scopes`` is what the client should ask for (see ``policy``)."""
    description = "this call needs the scope(s) " + " ".join(sorted(needed))
    challenge = www_authenticate(metadata_url, error="insufficient_scope", description=description, scopes=scopes)
    body = {"error": "insufficient_scope", "error_description": description, "scope": " ".join(scopes)}
    return _json(403, body, {"WWW-Authenticate": challenge})


def unavailable(
    description: str = "the authorization server cannot be reached; retry shortly", *, retry_after: int | None = None
) -> Response:
    """503: no decision is possible (never a 401 that would discard a good token); ``Retry-After`` at least 1 s."""
    body = {"error": "temporarily_unavailable", "error_description": description}
    seconds = RETRY_AFTER_SECONDS if retry_after is None else max(1, retry_after)
    return _json(503, body, {"Retry-After": str(seconds)})


def forbidden_origin() -> Response:
    return _json(403, {"error": "forbidden", "error_description": "Origin not allowed"}, {})


def malformed_body(description: str) -> Response:
    """400 for a body no JSON parser should be asked to read (an HTTP answer, not a JSON-RPC one)."""
    return _json(400, {"error": "invalid_request", "error_description": description}, {})


def method_not_allowed() -> Response:
    """405 for every method but POST on /mcp: stateless, there is no stream to open and no session to end."""
    return Response(status_code=405, headers={"Allow": "POST"})


def too_large() -> Response:
    return _json(413, {"error": "invalid_request", "error_description": "request body too large"}, {})
