"""How many introspections of unknown tokens may start per second: per client, and in all.

A flood of random tokens must not become a flood of calls to Whatalo, nor crowd out new users:

- each client network has its own bucket (``INTROSPECTION_CLIENT_RATE_LIMIT``), so one client's
  flood spends only its own budget and another client's first call still gets through;
- the global bucket (``INTROSPECTION_RATE_LIMIT``) caps what this process asks of Whatalo, whatever
  the number of clients.

A client is the ASGI scope's client address, which uvicorn's proxy headers middleware has already
replaced by the ``X-Forwarded-For`` address when the direct peer is in ``FORWARDED_ALLOW_IPS``. An
IPv6 client is its /64 (one host usually holds a whole /64, and picks any address in it); an
IPv4-mapped IPv6 address is its IPv4 address. The table of clients is an LRU of at most
``MAX_CLIENTS`` buckets: a client pushed out comes back with a full bucket, as it would after a
short pause anyway, and the global bucket still holds. Beyond a limit, a miss is answered 503 with
``Retry-After``; cached tokens are never limited.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_CLIENTS = 10_000
IPV6_PREFIX = 64


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    def acquire(self) -> bool:
        """Take one token if there is one."""
        if self.rate <= 0:
            return True  # no limit configured
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def refund(self) -> None:
        """Give back a token taken for a call that did not happen."""
        self._tokens = min(self.burst, self._tokens + 1)


def client_key(host: str) -> str:
    """The budget a client address spends: the address itself (IPv4), or its /64 (IPv6)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]  # not an IP address (a proxy sent a name): bounded, like the table
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


class Refused(Exception):
    """No introspection now. The message names the setting; ``retry_after`` is in whole seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IntrospectionBudget:
    """A bucket per client network under one global bucket. A rate of 0 means no such limit."""

    def __init__(
        self,
        rate: float,
        client_rate: float,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._global = TokenBucket(rate, burst=max(2 * rate, 1.0), clock=clock)
        self._client_rate = client_rate
        self._max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._clients)

    def spend(self, client: str | None) -> None:
        """Take one introspection from ``client``'s budget and the global one, or raise :class:`Refused`.

        ``client`` None (no address: a Unix socket, or a call from inside the process) spends the
        global budget only. A client's token is given back when the global budget refuses, so a
        client is never charged for a call it did not get.
        """
        bucket = None if client is None or self._client_rate <= 0 else self._bucket(client_key(client))
        if bucket is not None and not bucket.acquire():
            wait = math.ceil(1 / self._client_rate)
            raise Refused("this client's introspection budget is spent (INTROSPECTION_CLIENT_RATE_LIMIT)", wait)
        if not self._global.acquire():
            if bucket is not None:
                bucket.refund()
            wait = math.ceil(1 / self._global.rate)
            raise Refused("introspection rate limit reached (INTROSPECTION_RATE_LIMIT)", wait)

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self._clients.get(key)
        if bucket is None:
            rate = self._client_rate
            bucket = self._clients[key] = TokenBucket(rate, burst=max(2 * rate, 1.0), clock=self._clock)
            if len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)  # the least recently seen
        else:
            self._clients.move_to_end(key)
        return bucket
