"""A token bucket: how many introspections of unknown tokens one process may start per second.

A flood of random tokens must not become a flood of calls to Whatalo: beyond the
limit, a miss is answered 503 with ``Retry-After`` instead of being introspected. Cached tokens are
never limited.
"""

from __future__ import annotations

import time
from collections.abc import Callable


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
