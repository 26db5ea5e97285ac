"""What the checks of one run share: the URL, the token, the HTTP client, and what earlier checks found."""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from .challenges import Challenge, ChallengeSyntaxError, bearer_challenge
from .client import Answer, ProbeClient

SHOWN = 240  # characters of a server's header or body shown in a detail


@dataclass
class Context:
    url: str
    token: str | None
    client: ProbeClient
    no_credentials: Answer | None = None  # the answer to a request without credentials
    challenge: Challenge | None = None  # its Bearer challenge
    metadata: dict[str, Any] | None = None  # the protected resource metadata, as found
    urls: list[tuple[str, str]] = field(default_factory=list)  # (what it is, URL): for transport.https
    no_token: str = "needs --token"  # why the checks that need the token are skipped when it is None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids)

    def clean(self, text: str) -> str:
        """``text`` printable, and without the token, whole or cut short after 12 characters (any server
        may echo it): what every detail goes through before it is shown."""
        if self.token:
            text = text.replace(self.token, "[the token]")
            text = re.sub(re.escape(self.token[:12]) + r"[A-Za-z0-9\-._~+/=]*", "[the token]", text)
        return "".join(ch if ch.isprintable() else " " for ch in text)

    def seen(self, text: str) -> str:
        """Server-sent text as a detail quotes it: cleaned and shortened."""
        text = self.clean(text)
        return text if len(text) <= SHOWN else text[:SHOWN] + "..."

    def describe(self, answer: Answer) -> str:
        """An answer in a few words: status, challenge or body."""
        challenges = answer.challenges()
        if challenges:
            return f"{answer.status}, WWW-Authenticate: {self.seen(', '.join(challenges))}"
        if answer.stopped_redirect:
            return f"{answer.status} redirecting to {self.seen(answer.stopped_redirect)} (not followed)"
        text = answer.text().strip()
        return f"{answer.status}" + (f", body: {self.seen(text)}" if text else "")

    def see_url(self, what: str, url: str) -> None:
        self.urls.append((what, url))


def fake_token() -> str:
    """A well-formed (RFC 6750 b64token) token no server issued."""
    return "probe-" + secrets.token_urlsafe(24)


def echoed(answer: Answer, sent: str) -> bool:
    """Whether the answer repeats ``sent`` (or its first 32 characters) in a header or its body."""
    probes = {sent, sent[:32]}
    text = answer.text() + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    return any(probe in text for probe in probes if len(probe) >= 8)


def bearer_of(answer: Answer) -> tuple[Challenge | None, str | None]:
    """The Bearer challenge of an answer, or why there is none."""
    try:
        challenge = bearer_challenge(answer.challenges())
    except ChallengeSyntaxError as exc:
        return None, f"WWW-Authenticate is not RFC 9110 syntax ({exc})"
    if challenge is None:
        return None, "no Bearer challenge" if answer.challenges() else "no WWW-Authenticate header"
    return challenge, None
