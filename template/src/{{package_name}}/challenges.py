"""The server's answers when it does not serve a request: status, challenge and body.

``WWW-Authenticate`` follows RFC 6750 §3 and RFC 9728 §5.1: every challenge
points at the protected resource metadata; ``error`` appears only when
credentials were sent; ``insufficient_scope`` lists every scope the call needs.
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


def insufficient_scope(metadata_url: str, needed: Iterable[str]) -> Response:
    needed = sorted(needed)
    description = "this call needs the scope(s) " + " ".join(needed)
    challenge = www_authenticate(metadata_url, error="insufficient_scope", description=description, scopes=needed)
    body = {"error": "insufficient_scope", "error_description": description, "scope": " ".join(needed)}
    return _json(403, body, {"WWW-Authenticate": challenge})


def unavailable(description: str = "the authorization server cannot be reached; retry shortly") -> Response:
    """503: no decision is possible (never a 401 that would discard a good token)."""
    body = {"error": "temporarily_unavailable", "error_description": description}
    return _json(503, body, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def forbidden_origin() -> Response:
    return _json(403, {"error": "forbidden", "error_description": "Origin not allowed"}, {})


def parse_error(description: str) -> Response:
    """A JSON-RPC parse error for a body no JSON parser should be asked to read."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": f"Parse error: {description}"}}
    return Response(json.dumps(body), status_code=400, media_type="application/json")


def no_stream() -> Response:
    """405 for GET /mcp: the server is stateless and offers no server-initiated stream."""
    return Response(status_code=405, headers={"Allow": "POST, DELETE"})


def too_large() -> Response:
    return _json(413, {"error": "invalid_request", "error_description": "request body too large"}, {})
