"""What the sandbox's OAuth endpoints share: Whatalo's error format, form bodies, client authentication.

Clients authenticate as Whatalo's documented: a confidential client with HTTP Basic
or ``client_id`` + ``client_secret`` in the body (never both), a public client
(``token_endpoint_auth_method: none``) with its ``client_id`` alone.
"""

from __future__ import annotations

import base64
import binascii
import logging
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from .state import Client, SandboxState

log = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # where Whatalo allows http redirect URIs
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An error answer in Whatalo's format: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.retry_after = status, error, description, retry_after

    def response(self, request: Request | None = None) -> JSONResponse:
        """The answer; with the request, also one log line saying why (descriptions carry no secret)."""
        if request is not None:
            log.info("%s %s refused: %s (%s)", request.method, request.url.path, self.error, self.description)
        headers = dict(NO_STORE)
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="whatalo"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return OAuthError(status, error, description).response()


async def read_form(request: Request) -> dict[str, str]:
    """The form body; a parameter sent twice is an error (RFC 6749 §3.1)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthError(400, "invalid_request", "expected an application/x-www-form-urlencoded body")
    form = await request.form()
    repeated = sorted({key for key in form if len(form.getlist(key)) > 1})
    if repeated:
        raise OAuthError(400, "invalid_request", f"parameter sent more than once: {', '.join(repeated)}")
    return {key: value for key, value in form.items() if isinstance(value, str)}


def authenticate(state: SandboxState, request: Request, form: dict[str, str]) -> Client:
    """The client that made this request, or ``invalid_client``."""
    failed = OAuthError(401, "invalid_client", "Client authentication failed")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        if "client_secret" in form:
            raise OAuthError(400, "invalid_request", "send client credentials by Basic or in the body, not both")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise failed from None
        client_id, _, secret = decoded.partition(":")
        client_id, secret = unquote(client_id), unquote(secret)
        if form.get("client_id", client_id) != client_id:
            raise OAuthError(400, "invalid_request", "client_id in the body differs from the one in Basic")
    elif "client_secret" in form:
        client_id, secret = form.get("client_id", ""), form["client_secret"]
    else:
        public = state.clients.get(form.get("client_id", ""))
        if public is None or public.confidential:
            raise failed
        return public
    if not state.client_secret_ok(client_id, secret):
        raise failed
    return state.clients[client_id]


def url_problem(value: str) -> str | None:
    """Why ``value`` cannot be a redirect URI or resource: https, or http on loopback; absolute; no fragment."""
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced [ of an IPv6 host
        return f"{value!r} is not an absolute http(s) URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an absolute http(s) URL"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return f"{value!r} must use https (http is allowed for localhost only)"
    if parts.fragment:
        return f"{value!r} must not have a fragment"
    return None
