"""Who is calling: the verified claims of an access token, and safe ways to name a token."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


def token_digest(token: str) -> str:
    """SHA-256 of the token, hex. The only form in which a token is ever a key."""
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(digest: str) -> str:
    """A short, log-safe name for a token: the first 8 hex digits of its digest."""
    return digest[:8]


@dataclass(frozen=True)
class Principal:
    """What the server keeps of an active introspection result, and nothing more."""

    store_id: str
    sub: str
    client_id: str
    scopes: frozenset[str]
    aud: tuple[str, ...]
    exp: float

    def claims(self) -> dict[str, object]:
        """The claims as introspection named them, for frameworks that expose token claims to tools."""
        return {
            "sub": self.sub,
            "client_id": self.client_id,
            "whatalo_store_id": self.store_id,
            "scope": " ".join(sorted(self.scopes)),
            "aud": list(self.aud),
            "exp": int(self.exp),
        }

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "store_id": self.store_id,
                "sub": self.sub,
                "client_id": self.client_id,
                "scopes": sorted(self.scopes),
                "aud": list(self.aud),
                "exp": self.exp,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Principal:
        data = json.loads(raw)
        return cls(
            store_id=data["store_id"],
            sub=data["sub"],
            client_id=data["client_id"],
            scopes=frozenset(data["scopes"]),
            aud=tuple(data["aud"]),
            exp=float(data["exp"]),
        )
