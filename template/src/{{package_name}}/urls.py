"""The URL rules of the server, in one place.

- Configured URLs (``require_url``): absolute; ``https://``, or ``http://`` on a loopback host only;
  no credentials, query, fragment or trailing slash.
- Resource identifiers compare as RFC 3986 §6.2.2-6.2.3 says, never by prefix (``same_resource``).
- Metadata locations: RFC 9728 §3.1 for this server's protected resource metadata, RFC 8414 §3.1
  for the authorization server's; both put the well-known segment between host and path.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
PROTECTED_RESOURCE_WELL_KNOWN = "/.well-known/oauth-protected-resource"
AUTHORIZATION_SERVER_WELL_KNOWN = "/.well-known/oauth-authorization-server"


def is_loopback(host: str | None) -> bool:
    return (host or "").lower() in LOOPBACK_HOSTS


def _split(value: str) -> SplitResult | None:
    """``value`` split into its parts, or None when it cannot be (an unbalanced ``[`` of an IPv6 host)."""
    try:
        return urlsplit(value)
    except ValueError:
        return None


def is_loopback_origin(value: str) -> bool:
    """Whether an ``Origin`` header names a loopback host; a malformed one does not."""
    parts = _split(value)
    return parts is not None and is_loopback(parts.hostname)


def require_url(value: str, *, allow_path: bool = True) -> str:
    """``value`` if it is a URL the server may be configured with, else ``ValueError`` saying why."""
    parts = _split(value)
    if parts is None:
        raise ValueError("must be an absolute http(s) URL (its host is malformed)")
    if parts.username or parts.password:  # checked first: the value is not echoed, it holds a secret
        raise ValueError("must not contain credentials (user:password@); configure them separately")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"must use https:// (plain http:// is allowed only for localhost), got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"must not contain a query or a fragment, got {value!r}")
    if value.endswith("/"):
        raise ValueError(f"must not end with '/', got {value!r}")
    if not allow_path and parts.path:
        raise ValueError(f"must not have a path, got {value!r}")
    return value


def same_resource(a: str, b: str) -> bool:
    """Equal resource identifiers (RFC 3986 §6.2.2-6.2.3), never a prefix match.

    Scheme and host compare case-insensitively, and an empty path is "/": URL libraries
    write ``https://host`` as ``https://host/`` (the TypeScript MCP SDK behind MCP
    Inspector and mcp-remote sends that as ``resource``). Any other trailing slash makes
    another resource.
    """
    pa, pb = _split(a), _split(b)
    if pa is None or pb is None:
        return False
    return (pa.scheme.lower(), pa.netloc.lower(), pa.path or "/", pa.query) == (
        pb.scheme.lower(),
        pb.netloc.lower(),
        pb.path or "/",
        pb.query,
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def resource_metadata_path(resource_url: str) -> str:
    """The path of this server's protected resource metadata (RFC 9728 §3.1)."""
    return PROTECTED_RESOURCE_WELL_KNOWN + urlsplit(resource_url).path.rstrip("/")


def resource_metadata_url(resource_url: str) -> str:
    """Where clients read this server's protected resource metadata: the ``resource_metadata`` of challenges."""
    return origin(resource_url) + resource_metadata_path(resource_url)


def authorization_server_metadata_url(issuer: str) -> str:
    """Where an issuer's metadata is (RFC 8414 §3.1)."""
    return origin(issuer) + AUTHORIZATION_SERVER_WELL_KNOWN + urlsplit(issuer).path.rstrip("/")
