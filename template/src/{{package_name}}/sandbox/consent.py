"""``/oauth/authorize``: the authorization request (PKCE S256 only) and the merchant's consent page.

``GET`` checks the request. Until ``client_id`` and ``redirect_uri`` (an exact
match with a registered URI) check out, errors are a page for the person at the
browser; after that they go back to the client as ``?error=...&state=...``
(RFC 6749 §4.1.2.1). A good request gets a small HTML page where the merchant
picks one demo store and the permissions to grant, then approves (a code goes
back) or declines (``access_denied``). The sandbox has no login: approving for
a store signs in as that store's owner.
"""

from __future__ import annotations

import logging
import re
import time
from html import escape
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .oauth import url_problem
from .scopes import SCOPES
from .state import CONSENT_LIFETIME, Client, Consent, Grant, SandboxState

log = logging.getLogger(__name__)
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest, no padding
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; margin: 0; }
main { max-width: 34rem; margin: 3rem auto; background: #fff; border-radius: 10px; padding: 1.6rem 2rem;
       box-shadow: 0 1px 4px #0002; }
h1 { font-size: 1.25rem; margin: 0 0 .4rem; } h2 { font-size: 1rem; margin: 1.3rem 0 .4rem; }
.muted { color: #5b6475; font-size: .9rem; } label { display: block; padding: .25rem 0; }
code { background: #eef0f4; padding: 0 .25rem; border-radius: 3px; }
.buttons { display: flex; gap: .7rem; margin-top: 1.4rem; }
button { font: inherit; padding: .5rem 1.2rem; border-radius: 6px; border: 1px solid #8a93a6; background: #fff; }
button[value=approve] { background: #3152d4; border-color: #3152d4; color: #fff; }
.error { color: #a01d1d; }
"""


class RedirectError(Exception):
    """An authorization error that goes back to the client's redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Whatalo sandbox</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def error_page(message: str) -> HTMLResponse:
    log.info("authorize refused at the browser: %s", message)
    return page(
        "Authorization error",
        f'<h1>This authorization request cannot be served</h1><p class="error">{escape(message)}</p>'
        '<p class="muted">The application that sent you here is misconfigured; nothing was granted.</p>',
        status=400,
    )


def redirect(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302, headers=PAGE_HEADERS)


def check_request(state: SandboxState, client: Client, params: dict[str, str], repeated: set[str]) -> Consent:
    """The consent to ask for, or the :class:`RedirectError` to send back."""
    if repeated:
        raise RedirectError("invalid_request", f"parameter sent more than once: {', '.join(sorted(repeated))}")
    if params.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "response_type must be code")
    if "authorization_code" not in client.grant_types:
        raise RedirectError("unauthorized_client", "this client is not registered for the authorization_code grant")
    for name in ("state", "code_challenge", "scope"):
        if not params.get(name):
            raise RedirectError("invalid_request", f"{name} is required")
    if params.get("code_challenge_method") != "S256":
        raise RedirectError("invalid_request", "code_challenge_method must be S256 (plain is not supported)")
    if not CHALLENGE.fullmatch(params["code_challenge"]):
        raise RedirectError("invalid_request", "code_challenge must be a base64url SHA-256 digest (43 characters)")
    scopes = tuple(dict.fromkeys(params["scope"].split()))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise RedirectError("invalid_scope", f"unknown scope {' '.join(unknown)}")
    beyond = [scope for scope in scopes if client.scopes is not None and scope not in client.scopes]
    if beyond:
        raise RedirectError("invalid_scope", f"the client did not register for {' '.join(beyond)}")
    audience = params.get("resource", state.api_url)
    problem = url_problem(audience)
    if problem:
        raise RedirectError("invalid_target", f"resource {problem}")
    return Consent(
        client_id=client.client_id,
        redirect_uri=params["redirect_uri"],
        scopes=scopes,
        state=params["state"],
        code_challenge=params["code_challenge"],
        audience=audience,
        expires=time.monotonic() + CONSENT_LIFETIME,
    )


def consent_page(state: SandboxState, client: Client, consent: Consent, consent_id: str) -> HTMLResponse:
    current = state.last_store.get(client.client_id)
    stores = "".join(
        f'<label><input type="radio" name="store" value="{escape(store_id)}" required'
        f"{' checked' if store_id == current else ''}> "
        f"{escape(data.store['name'])} <span class=muted>({escape(store_id)})</span></label>"
        for store_id, data in state.stores.items()
    )
    scopes = "".join(
        f'<label><input type="checkbox" name="scope" value="{escape(scope)}" checked> <code>{escape(scope)}</code> '
        f"<span class=muted>{escape(SCOPES[scope])}</span></label>"
        for scope in consent.scopes
    )
    return page(
        f"Authorize {client.name}",
        f"<h1>{escape(client.name)} wants to access your store</h1>"
        f'<p class="muted">It will be sent back to <code>{escape(consent.redirect_uri)}</code>, '
        f"for use at <code>{escape(consent.audience)}</code>.</p>"
        f'<form method="post" action="/oauth/authorize">'
        f'<input type="hidden" name="consent" value="{escape(consent_id)}">'
        f"<h2>Store to connect</h2>{stores}<h2>Permissions</h2>{scopes}"
        '<div class="buttons"><button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="decline">Decline</button></div></form>'
        '<p class="muted">Whatalo sandbox: there is no login; approving signs you in as the owner of the store.</p>',
    )


def consent_routes(state: SandboxState) -> list[Route]:
    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        repeated = {key for key in params if len(request.query_params.getlist(key)) > 1}
        client = state.clients.get(params.get("client_id", ""))
        if client is None:
            return error_page("Unknown client_id: register the client first (POST /oauth/register).")
        if "client_id" in repeated or "redirect_uri" in repeated:
            return error_page("client_id and redirect_uri must be sent once.")
        if params.get("redirect_uri") not in client.redirect_uris:
            return error_page("invalid_redirect_uri: redirect_uri does not exactly match a registered redirect URI.")
        try:
            consent = check_request(state, client, params, repeated)
        except RedirectError as error:
            log.info("authorize refused: %s (%s), sent back to %s", error.error, error.description, client.client_id)
            answer = {"error": error.error, "error_description": error.description}
            if params.get("state"):
                answer["state"] = params["state"]
            return redirect(params["redirect_uri"], answer)
        return consent_page(state, client, consent, state.start_consent(consent))

    async def decide(request: Request) -> Response:
        form = await request.form()
        consent = state.take_consent(str(form.get("consent", "")))
        if consent is None:
            return error_page("This consent page has expired or was already answered; start the sign-in again.")
        if form.get("decision") != "approve":
            log.info("consent declined for client %s", consent.client_id)
            return redirect(
                consent.redirect_uri,
                {"error": "access_denied", "error_description": "The merchant declined", "state": consent.state},
            )
        if len(form.getlist("store")) > 1:
            return error_page("One store per authorization: the form sent several.")
        store_id = str(form.get("store", ""))
        granted = frozenset(str(scope) for scope in form.getlist("scope")) & frozenset(consent.scopes)
        if store_id not in state.stores or not granted:
            return redirect(
                consent.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "No store or no permission was granted",
                    "state": consent.state,
                },
            )
        grant = Grant(consent.client_id, store_id, state.stores[store_id].owner_sub, granted, consent.audience)
        state.last_store[consent.client_id] = store_id
        log.info("consent: client %s, store %s, scope %s", consent.client_id, store_id, " ".join(sorted(granted)))
        return redirect(consent.redirect_uri, {"code": state.issue_code(consent, grant), "state": consent.state})

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/authorize", decide, methods=["POST"]),
    ]
