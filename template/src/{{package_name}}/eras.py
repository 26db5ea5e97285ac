"""Which MCP protocol era a request speaks, read from its ``MCP-Protocol-Version`` header.

Legacy (2025-11-25 and older) opens with ``initialize``; modern (2026-07-28) is stateless and every
request carries its version. The frameworks route on the same header: a value that is not a
handshake-era version goes to their modern entry, which refuses the versions it does not serve.
"""

from __future__ import annotations

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

PROTOCOL_VERSION_HEADER = b"mcp-protocol-version"


def is_modern(protocol_version: str | None) -> bool:
    """Whether a request with this ``MCP-Protocol-Version`` (``None``: absent) is a modern-era one."""
    return protocol_version is not None and protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS
