"""Request bodies under a global budget: ``POST /as4`` and the sender API.

A request reserves its body's bytes, times HELD_COPIES, in one budget
shared by every request of the process (the declared Content-Length before
reading anything, a chunked body chunk by chunk) and keeps them until its response is done, so
the bytes a handler holds while it validates and stores are counted too.
When the budget is full a request waits briefly and is then refused
(BudgetFull; each route answers its own 503). A body past the spool
threshold waits in an anonymous temp file while it arrives, so slow uploads
hold budget but not memory; the handler gets the bytes once they are all in.
A body must arrive within the body timeout, or the connection is closed.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable
from typing import IO

import structlog
from aiohttp import web

from gateway.config.settings import HttpSettings

log = structlog.get_logger("gateway.transport.bodies")

_CHUNK = 64 * 1024
# A document being checked and stored is held about three times over by the
# serving process: the body, the copy pickled to the validation process and
# the copy handed to the store (benchmarks/upload_flood.py measured 2.5x the
# budget with valid invoices when a byte reserved one). Each body byte
# reserves this many, so the budget bounds memory, not bytes on the wire.
HELD_COPIES = 3


class BudgetFull(Exception):
    """No room in the budget within the wait; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many request bytes in flight")
        self.retry_after = retry_after


class BodyTooLarge(Exception):
    """The body is (or declares to be) larger than ``limit``."""

    def __init__(self, limit: int, declared: int | None) -> None:
        super().__init__(f"body larger than {limit} bytes")
        self.limit, self.declared = limit, declared


class BodyTimeout(Exception):
    """The body did not arrive in time; the connection is already closed."""


class InflightBudget:
    """Bytes of request bodies admitted at once, granted first come, first
    served. A single body larger than the whole budget waits until it is
    empty and then runs alone, so such a body is refused by its size limit,
    never by the budget."""

    def __init__(self, http: HttpSettings) -> None:
        self.http = http  # fixed for the life of the process, like the budget itself
        self.capacity = http.inflight_bytes
        self.wait_seconds = http.inflight_wait_seconds
        self.used = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def take(self, n: int, deadline: float) -> None:
        """Reserve ``n`` bytes (at most the capacity), waiting until the loop
        time ``deadline``; raises BudgetFull if there is no room by then."""
        if not self._waiters and self.used + n <= self.capacity:
            self.used += n
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        entry = (n, fut)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout_at(deadline):
                await fut
        except BaseException as exc:
            # Awaiting the future and being cancelled cancels it too: only a
            # result means the bytes were granted.
            if fut.done() and not fut.cancelled():
                if isinstance(exc, TimeoutError):
                    return  # granted in the same instant the wait ran out
                self.give(n)
                raise
            if entry in self._waiters:
                self._waiters.remove(entry)
                self._grant()  # it may have been the head holding others back
            if isinstance(exc, TimeoutError):
                raise BudgetFull(max(1, math.ceil(self.wait_seconds))) from None
            raise

    def give(self, n: int) -> None:
        self.used -= n
        self._grant()

    def _grant(self) -> None:
        while self._waiters and self.used + self._waiters[0][0] <= self.capacity:
            n, fut = self._waiters.popleft()
            if not fut.done():
                self.used += n
                fut.set_result(None)


class Reservation:
    """What one request holds in the budget, returned when it is done."""

    def __init__(self, budget: InflightBudget) -> None:
        self._budget = budget
        self._deadline = asyncio.get_running_loop().time() + budget.wait_seconds
        self.held = 0

    async def grow(self, n: int) -> None:
        n = min(n, self._budget.capacity - self.held)
        if n > 0:
            await self._budget.take(n, self._deadline)
            self.held += n

    def release(self) -> None:
        held, self.held = self.held, 0
        if held:
            self._budget.give(held)


BUDGET = web.AppKey("inflight_budget", InflightBudget)
_UNBOUNDED = HttpSettings(inflight_bytes=2**62)
_RESERVATION = web.RequestKey("body_reservation", Reservation)


@web.middleware
async def budget_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Returns whatever the request reserved once its handler is done: the
    body's bytes are no longer held by then (answers are small)."""
    try:
        return await handler(request)
    finally:
        reservation = request.get(_RESERVATION)
        if reservation is not None:
            reservation.release()


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, read under the budget, the spool threshold and the
    body timeout. Raises BodyTooLarge, BudgetFull or BodyTimeout; a client
    that goes away raises what aiohttp raises (a ConnectionError)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, declared)
    # An application not made by app.make_app (a test's) has no budget:
    # a budget of its own per request bounds nothing and needs no release.
    budget = request.app.get(BUDGET) or InflightBudget(_UNBOUNDED)
    http = budget.http
    reservation = request.get(_RESERVATION)
    if reservation is None:
        reservation = request[_RESERVATION] = Reservation(budget)
    if declared is not None:
        await reservation.grow(declared * HELD_COPIES)
    spool = _Spool(http)
    try:
        async with asyncio.timeout(http.body_timeout_seconds):
            async for chunk in request.content.iter_chunked(_CHUNK):
                if spool.size + len(chunk) > limit:
                    raise BodyTooLarge(limit, declared)
                if declared is None or spool.size + len(chunk) > declared:
                    await reservation.grow(len(chunk) * HELD_COPIES)
                spool.write(chunk)
        return spool.getvalue()
    except TimeoutError:
        # A client trickling its body holds a connection and budget: drop it.
        log.warning("http.body_timeout", received=spool.size, declared=declared)
        if request.transport is not None:
            request.transport.close()
        raise BodyTimeout(f"body not received within {http.body_timeout_seconds:g} s") from None
    finally:
        spool.close()


class _Spool:
    """Bytes in memory up to the threshold, then in an anonymous temp file
    (unlinked at creation where the OS allows it, so nothing is left behind
    even by a killed process; closed in every path by read_body)."""

    def __init__(self, http: HttpSettings) -> None:
        self._threshold = http.spool_threshold_bytes
        self._dir = str(http.spool_dir) if http.spool_dir else None
        self._memory = bytearray()
        self._file: IO[bytes] | None = None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._file is None and self.size > self._threshold:
            # Closed by close(), which read_body calls in every path.
            self._file = tempfile.TemporaryFile(dir=self._dir, prefix="gateway-body-")  # noqa: SIM115
            self._file.write(self._memory)
            self._memory = bytearray()
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._memory.extend(chunk)

    def getvalue(self) -> bytes:
        if self._file is None:
            return bytes(self._memory)
        self._file.seek(0)
        return self._file.read()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._memory = bytearray()


# Above this, building or reading a message runs in a worker thread so the
# event loop keeps serving while a large payload is compressed or hashed.
OFFLOAD_BYTES = 256 * 1024
