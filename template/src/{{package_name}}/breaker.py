"""A circuit breaker: after repeated failures of a dependency, fail at once instead of waiting.

Closed, every call goes through, and ``FAILURES`` failures in a row open the circuit. Open, calls
are refused at once (:class:`CircuitOpen`, with the seconds left) for ``OPEN_SECONDS``. Then the
circuit is half-open: one call goes through as a trial, the others are still refused; its success
closes the circuit, its failure opens it for another ``OPEN_SECONDS``. A trial that never reports
(its caller was cancelled) is given up after ``OPEN_SECONDS``, and another call becomes the trial.

Opening and closing are logged once each (with the dependency's name and the last failure's
reason, which callers keep free of tokens and secrets); the failed trials in between are not.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from enum import Enum

log = logging.getLogger(__name__)

FAILURES = 5  # failures in a row that open the circuit
OPEN_SECONDS = 2.0  # how long it stays open before a trial call (and between trials)


class State(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitOpen(Exception):
    """The call was not made. ``retry_after``: whole seconds until the next trial."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"{name} is failing; not called for now (circuit open)")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: int = FAILURES,
        open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failures = failures
        self.open_seconds = open_seconds
        self._clock = clock
        self._failed = 0  # in a row
        self._opened_at = 0.0  # when it opened (first), for the log
        self._until = 0.0  # open: no call before this; half-open: the trial's deadline
        self._state = State.CLOSED

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() >= self._until:
            return State.HALF_OPEN  # a trial may go
        return self._state

    def retry_after(self) -> int:
        """Whole seconds until a call may go through again (0 when closed)."""
        if self._state is State.CLOSED:
            return 0
        return max(1, math.ceil(self._until - self._clock()))

    def refuses(self) -> bool:
        """Whether :meth:`admit` would refuse a call now: open, or a trial in flight (takes no trial)."""
        return self._state is not State.CLOSED and self._clock() < self._until

    def admit(self) -> None:
        """Let a call go through, or raise :class:`CircuitOpen`."""
        if self._state is State.CLOSED:
            return
        now = self._clock()
        if now < self._until:
            raise CircuitOpen(self.name, self.retry_after())
        # Open and due, or half-open with a trial that never reported: this call is the trial.
        self._state = State.HALF_OPEN
        self._until = now + self.open_seconds

    def succeeded(self) -> None:
        if self._state is not State.CLOSED:
            log.warning("%s answers again after %.1f s: circuit closed", self.name, self._clock() - self._opened_at)
        self._state = State.CLOSED
        self._failed = 0

    def failed(self, reason: str) -> None:
        """A call failed (``reason``: safe to log). Opens the circuit after ``failures`` in a row, or a failed trial."""
        self._failed += 1
        now = self._clock()
        if self._state is State.HALF_OPEN:
            self._state, self._until = State.OPEN, now + self.open_seconds
            log.debug("%s trial call failed (%s); open for another %.0f s", self.name, reason, self.open_seconds)
        elif self._state is State.CLOSED and self._failed >= self.failures:
            self._state, self._until, self._opened_at = State.OPEN, now + self.open_seconds, now
            log.warning(
                "%s failed %d times in a row (last: %s): circuit open, answering at once for %.0f s, "
                "then one trial call",
                self.name,
                self._failed,
                reason,
                self.open_seconds,
            )
