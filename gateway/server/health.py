"""Whether the store can still write, for /healthz.

A store that answers reads may still refuse writes (a full disk, a file
another process holds locked, Redis over maxmemory): the probe makes one
small write and, for SQLite, checks there is room for a document. Its
answer is kept for ``ttl`` seconds so that /healthz stays cheap however
often it is asked, and concurrent asks share one probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from gateway.errors import StoreError
from gateway.store.base import StoreLifecycle


class WriteProbe:
    def __init__(
        self,
        store: StoreLifecycle,
        clock: Callable[[], datetime],
        *,
        room: int,
        timeout: float,
        ttl: float = 2.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._room = room
        self._timeout = timeout
        self._ttl = ttl
        self._lock = asyncio.Lock()
        self._checked_at: float | None = None
        self._problem: str | None = None

    async def problem(self) -> str | None:
        """Why the store cannot write now, or None when it can."""
        async with self._lock:
            at = time.monotonic()
            if self._checked_at is None or at - self._checked_at >= self._ttl:
                self._problem = await self._probe()
                self._checked_at = time.monotonic()
            return self._problem

    async def _probe(self) -> str | None:
        try:
            write = self._store.probe_write(self._clock(), room=self._room)
            # A second more than the store's own timeout, so that its error
            # (which names the cause) comes first; this only bounds a hang.
            await asyncio.wait_for(write, self._timeout + 1.0)
        except TimeoutError:
            return f"a test write to the store did not finish within {self._timeout + 1:g} s"
        except StoreError as exc:
            return f"the store cannot write: {exc.message}"
        return None
