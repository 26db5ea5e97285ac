"""What ``/readyz`` answers: whether a load balancer should send this replica requests.

A replica is unready only for what is its own to fix:

- the authorization server's metadata was never discovered, or names another issuer: the replica
  cannot decide on any token it has not cached (once discovered, the document is kept through a
  failed refresh, so a later Whatalo outage does not make it unready);
- it is draining before shutdown (``SIGTERM``): the balancer sees it leave before it stops accepting.

What every replica shares is reported in the body and leaves the status at 200: a shared cache
down (the in-process fallback serves, misses are decided at Whatalo), Whatalo failing after
discovery (cached tokens still serve; the circuit breaker answers the others 503 at once). Taking every
replica out of the balancer for those would turn a partial outage into a total one.
"""

from __future__ import annotations

from typing import Any

from .authorization_server import AuthorizationServer, DiscoveryError
from .cache import Cache

CACHE_FALLBACK = "unreachable, serving from the in-process fallback"


async def readiness(
    authorization_server: AuthorizationServer, cache: Cache, *, draining: bool
) -> tuple[int, dict[str, Any]]:
    """The status code and body of ``/readyz``."""
    checks = {"authorization_server": "ok", "cache": "ok"}
    if not authorization_server.discovered:
        try:
            await authorization_server.metadata()  # retries discovery, at most every 2 s
        except DiscoveryError:
            pass
    if not authorization_server.discovered:
        checks["authorization_server"] = authorization_server.error or "not discovered yet"
    elif authorization_server.status != "ok":
        checks["authorization_server"] = authorization_server.status
    if not await cache.ping():
        checks["cache"] = CACHE_FALLBACK
    if draining:
        return 503, {"status": "draining", "checks": checks}
    if not authorization_server.discovered:
        return 503, {"status": "not ready", "checks": checks}
    return 200, {"status": "ready", "checks": checks}
