"""The probe's checks: stable ids, what each wants, and the outcome of one run of each.

``CATALOG`` is the list users and scripts rely on: ids never change meaning, and a run reports
every id once, in this order. ``expected`` cites the specification the check holds a server to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


CATALOG: dict[str, str] = {
    "challenge.status": "a request without credentials answered 401 with a WWW-Authenticate header (RFC 9110 §15.5.2)",
    "challenge.bearer": ("a Bearer challenge in RFC 9110 §11.2 syntax, no parameter repeated (RFC 6750 §3)"),
    "challenge.resource_metadata": (
        'resource_metadata="<absolute URL of the protected resource metadata>" in the 401 challenge '
        "(RFC 9728 §5.1; MCP 2025-06-18 MUST, later revisions fall back to the well-known URLs without it)"
    ),
    "challenge.scope": (
        'scope="..." in the 401 challenge naming the scopes to ask for, without offline_access '
        "(MCP 2025-11-25 and 2026-07-28 SHOULD)"
    ),
    "challenge.no_error": (
        "no error, error_description or error_uri parameter when the request had no credentials (RFC 6750 §3.1)"
    ),
    "challenge.other_scheme": (
        "Authorization with another scheme (Basic) treated as no credentials: 401, Bearer challenge, no error "
        "(RFC 6750 §3.1)"
    ),
    "metadata.discovery": (
        "protected resource metadata where clients look: the challenge's resource_metadata, else "
        "/.well-known/oauth-protected-resource with the URL's path, then at the root; 200, application/json, "
        "a JSON object (RFC 9728 §3; MCP authorization server discovery)"
    ),
    "metadata.resource": (
        "resource is an absolute URL without fragment, equal to URL or a parent of it (same scheme, host and "
        "port; a path prefix at a segment boundary), as MCP clients accept (RFC 9728 §2, §3.3; RFC 8707 §2)"
    ),
    "metadata.location": (
        "the document also served at the URL RFC 9728 §3.1 derives from its own resource "
        "(/.well-known/oauth-protected-resource inserted between host and path), identical"
    ),
    "metadata.authorization_servers": (
        "authorization_servers: a non-empty array of issuer URLs (MCP: at least one; RFC 9728 §2)"
    ),
    "metadata.cors": (
        "Access-Control-Allow-Origin on the metadata, for a GET and for its CORS preflight, so browser-based "
        "clients can read it"
    ),
    "as.metadata": (
        "each authorization server's metadata found as MCP clients look (RFC 8414 "
        "/.well-known/oauth-authorization-server, then OpenID Connect discovery), its issuer identical to the "
        "authorization_servers entry (RFC 8414 §3.3)"
    ),
    "as.pkce": "code_challenge_methods_supported includes S256 (MCP clients refuse an authorization server without it)",
    "transport.https": (
        "https:// for every URL not on loopback: URL, resource_metadata, resource, issuers, authorization "
        "server endpoints (OAuth 2.1 §1.5; RFC 9728 §7.1)"
    ),
    "header.empty": (
        "Authorization: Bearer with no token refused (400 invalid_request, or 401) without echo (RFC 6750 §3.1)"
    ),
    "header.syntax": (
        "a token followed by more text refused (400/401), never shortened to its first word, without echo "
        "(RFC 6750 §2.1)"
    ),
    "header.duplicate": (
        "two Authorization headers refused (400 invalid_request, or 401) in either order, without echo "
        "(RFC 9110 §5.3; RFC 6750 §3.1)"
    ),
    "header.oversized": "a 10,000-character token refused (400, 401 or 431) without echo (RFC 6585 §5)",
    "header.scheme_case": "the scheme name is case-insensitive: bEaReR <token> accepted (RFC 9110 §11.1)",
    "query.token": (
        "a token in the query string (?access_token=) ignored: 401, answered as without credentials "
        "(OAuth 2.1 §5.1; MCP token requirements)"
    ),
    "tools.list.legacy": "initialize, then tools/list answered with a tools array (MCP 2025-11-25, with session)",
    "tools.list.modern": (
        "tools/list answered statelessly, version and capabilities in _meta, Mcp-Method header (MCP 2026-07-28)"
    ),
    "step_up.modern": (
        "a call the token's scopes do not cover (a read-only tool's, or any call where the server requires a "
        'scope of all): 403, WWW-Authenticate Bearer error="insufficient_scope" with scope="<the scopes the '
        'call needs>" and resource_metadata, without offline_access (MCP 2026-07-28)'
    ),
    "step_up.legacy": (
        "the same call in the legacy era: 403 insufficient_scope, scope naming what the call needs (the "
        "granted scopes as well is acceptable) and resource_metadata (MCP 2025-11-25)"
    ),
}

# The checks that need --token: without it they are skipped, and that does not fail the run.
NEEDS_TOKEN = frozenset(
    {"header.scheme_case", "tools.list.legacy", "tools.list.modern", "step_up.modern", "step_up.legacy"}
)


@dataclass(frozen=True)
class Result:
    id: str
    status: Status
    detail: str  # pass: the evidence; fail: what was seen; skip: why

    @property
    def expected(self) -> str:
        return CATALOG[self.id]

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status.value, "detail": self.detail, "expected": self.expected}


def passed(check: str, detail: str) -> Result:
    return Result(check, Status.PASS, detail)


def failed(check: str, detail: str) -> Result:
    return Result(check, Status.FAIL, detail)


def skipped(check: str, why: str) -> Result:
    return Result(check, Status.SKIP, why)
