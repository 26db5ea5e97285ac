"""Short-lived storage for introspection and token-exchange results, and single flight.

Keys are digests, never tokens. Values expire by themselves; the cache holds a
bounded number of entries and evicts the least recently used first.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> bool: ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """An in-process LRU cache with per-entry expiry on a monotonic clock."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._entries.clear()


def open_cache(url: str, max_entries: int) -> Cache:
    """The cache named by ``CACHE_URL``."""
    if url == "memory://":
        return MemoryCache(max_entries)
    raise ValueError(f"unsupported CACHE_URL {url!r}")


class Overloaded(Exception):
    """Too many different keys are being computed at once."""


class SingleFlight:
    """Concurrent calls for one key share one computation (in this process).

    The computation runs in a task of its own, so a caller that goes away does
    not cancel it for the others. The number of keys in flight is bounded.
    """

    def __init__(self, max_in_flight: int = 1024) -> None:
        self.max_in_flight = max_in_flight
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None:
            if len(self._tasks) >= self.max_in_flight:
                raise Overloaded(f"{len(self._tasks)} computations already in flight")

            task = asyncio.ensure_future(compute())
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        return cast(T, await asyncio.shield(task))

    def _done(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unwatched failure is not reported as lost
