"""The cache seen by the core: an interface, and single flight within one process.

Keys are digests, never tokens. Values expire by themselves. The backend that
implements :class:`Cache` is chosen at render time (``cache_backend.py``);
:class:`MemoryCache` is the in-process one (and the near cache in front of a shared backend).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")


class Cache(Protocol):
    """Where introspection and token-exchange results live between requests."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent, expired or unreadable (a backend fault is a miss)."""

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store for ``ttl`` seconds; a ttl of 0 or less stores nothing."""

    async def delete(self, key: str) -> None: ...

    def exclusive(self, key: str, wait: float) -> AbstractAsyncContextManager[None]:
        """Hold ``key`` against other processes sharing the cache, waiting at most ``wait`` seconds.

        Callers re-read the cache inside, so whoever waited finds the first one's result.
        When the wait runs out (say, the holder died), the caller goes on without the hold.
        """

    async def ping(self) -> bool: ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """In-process LRU with per-entry expiry; never shared, so ``exclusive`` holds nothing."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return list(self._entries)

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

    @asynccontextmanager
    async def exclusive(self, key: str, wait: float) -> AsyncIterator[None]:
        yield  # one process: SingleFlight already merges concurrent misses

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._entries.clear()


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


async def compute_once(
    cache: Cache,
    flight: SingleFlight,
    key: str,
    *,
    look: Callable[[], Awaitable[T | None]],
    compute: Callable[[], Awaitable[T]],
    wait: float,
) -> T:
    """``look`` in the cache, else ``compute`` once for everyone asking for ``key`` at the same time.

    Concurrent callers in this process share one computation (``flight``); across processes that
    share the cache, ``cache.exclusive`` holds the key, and whoever waited for it looks again and
    finds the first one's result. ``compute`` stores what it computed. May raise ``Overloaded``.
    """
    found = await look()
    if found is not None:
        return found

    async def once() -> T:
        async with cache.exclusive(key, wait=wait):
            again = await look()
            return again if again is not None else await compute()

    return await flight.run(key, once)
