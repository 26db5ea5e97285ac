"""The sandbox's scope catalog (Whatalo's scopes) agrees with this project's, and the consent page shows it."""

from __future__ import annotations

import importlib
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx2 as httpx

from tests.helpers import REDIRECT_URI, TLS_CONTEXT, pkce
from tests.project import PACKAGE, SCOPES, SandboxState

CATALOG: dict[str, str] = importlib.import_module(f"{PACKAGE}.sandbox.scopes").SCOPES
NOT_A_TOOL_SCOPE = "read:analytics"  # a Whatalo scope that no tool of any render enforces


class Permissions(HTMLParser):
    """The consent page's permission checkboxes: scope -> the description shown beside it, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: dict[str, str] = {}
        self._scope: str | None = None
        self._in_description = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "input" and attributes.get("name") == "scope":
            self._scope = attributes["value"]
            self.shown[self._scope] = ""
        elif tag == "span" and self._scope is not None:
            self._in_description = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_description = False
        elif tag == "label":
            self._scope = None

    def handle_data(self, data: str) -> None:
        if self._in_description and self._scope is not None:
            self.shown[self._scope] += data


def test_every_scope_of_this_project_is_in_the_sandbox_catalog_with_the_same_description() -> None:
    assert SCOPES, "the project enforces at least one scope"
    for scope, description in SCOPES.items():
        assert scope in CATALOG, f"the sandbox (Whatalo) does not know {scope}"
        assert CATALOG[scope] == description, (scope, CATALOG[scope], description)
    assert NOT_A_TOOL_SCOPE in CATALOG and NOT_A_TOOL_SCOPE not in SCOPES


def test_the_sandbox_advertises_and_accepts_its_whole_catalog(sandbox: SandboxState) -> None:
    with httpx.Client(timeout=10, verify=TLS_CONTEXT) as http:
        document = http.get(f"{sandbox.issuer}/.well-known/oauth-authorization-server").json()
        assert document["scopes_supported"] == list(CATALOG)
        body = {"client_name": "Catalog", "redirect_uris": [REDIRECT_URI], "scope": " ".join(CATALOG)}
        registered = http.post(f"{sandbox.issuer}/oauth/register", json=body)
    assert registered.status_code == 201, registered.text
    assert registered.json()["scope"].split() == list(CATALOG)


def test_the_consent_page_shows_each_requested_scope_with_its_description(sandbox: SandboxState) -> None:
    requested = [*SCOPES, NOT_A_TOOL_SCOPE]  # this project's scopes, and one that only Whatalo knows
    _, challenge = pkce()
    with httpx.Client(timeout=10, follow_redirects=False, verify=TLS_CONTEXT) as http:
        body = {"client_name": "Catalog", "redirect_uris": [REDIRECT_URI]}
        client = http.post(f"{sandbox.issuer}/oauth/register", json=body).json()
        query = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": " ".join(requested),
            "state": "st-catalog",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        page = http.get(f"{sandbox.issuer}/oauth/authorize?{urlencode(query)}")
    assert page.status_code == 200, page.text
    permissions = Permissions()
    permissions.feed(page.text)
    assert permissions.shown == {scope: CATALOG[scope] for scope in requested}
    assert list(permissions.shown) == requested  # in the order asked for
    for scope in requested:
        assert permissions.shown[scope].strip(), f"{scope} is shown without a description"
