"""The merchant at the browser: opens an authorization URL, answers the sandbox's consent page over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2 as httpx

from tests.helpers import TLS_CONTEXT


class ConsentForm(HTMLParser):
    """The inputs of the consent page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.stores: list[str] = []
        self.checked_store: str | None = None  # the store the page pre-selects
        self.scopes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes.get("action", "")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"]] = attributes.get("value", "")
        elif tag == "input" and attributes.get("name") == "store":
            self.stores.append(attributes["value"])
            if "checked" in attributes:
                self.checked_store = attributes["value"]
        elif tag == "input" and attributes.get("name") == "scope":
            self.scopes.append(attributes["value"])


@dataclass
class Merchant:
    """``merchant.authorize(url)``: the query parameters the browser would bring back to the client."""

    store: str | None  # None: keep the store the page pre-selects
    scopes: set[str] | None = None  # None: approve every permission asked for
    decision: str = "approve"
    pages: list[ConsentForm] = field(default_factory=list)  # every consent page seen, in order

    def authorize(self, url: str) -> dict[str, str]:
        with httpx.Client(timeout=10, follow_redirects=False, verify=TLS_CONTEXT) as browser:
            shown = browser.get(url)
            if shown.status_code == 302:  # an error sent straight back to the client
                return self._back(shown)
            assert shown.status_code == 200, (shown.status_code, shown.text)
            form = ConsentForm()
            form.feed(shown.text)
            self.pages.append(form)
            granted = form.scopes if self.scopes is None else [s for s in form.scopes if s in self.scopes]
            store = self.store or form.checked_store or ""
            answer: dict[str, str | list[str]] = {**form.hidden, "store": store, "decision": self.decision}
            answer["scope"] = granted
            return self._back(browser.post(urljoin(url, form.action), data=answer))

    @staticmethod
    def _back(response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 302, (response.status_code, response.text)
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return {name: values[0] for name, values in query.items()}
