"""Group commit for SQLite: one writer thread, one transaction per batch.

Callers on any event loop hand over a function of the connection and await
its result. The thread takes everything queued so far, runs each function in
its own SAVEPOINT (a function that raises is rolled back alone and gets its
exception; the others of the batch are unaffected), commits once, and only
then resolves the callers' futures, so nobody hears "done" before the data
is committed. Under load N callers share one fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_MAX_BATCH = 1000  # bounds how long one transaction holds the write lock


class WriterClosed(Exception):
    """The writer is stopping and takes no more work."""


class _Op:
    __slots__ = ("fn", "future", "loop")

    def __init__(
        self, fn: Callable[[sqlite3.Connection], Any], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()


_Outcome = tuple[_Op, Any, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    for op, result, error in outcomes:
        if op.future.done():  # the caller was cancelled; its write stands regardless
            continue
        if error is None:
            op.future.set_result(result)
        else:
            op.future.set_exception(error)


class GroupCommitWriter:
    """Owns ``conn`` (opened in autocommit mode) from start to close."""

    def __init__(self, conn: sqlite3.Connection, *, name: str = "sqlite-writer") -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` inside the next committed batch and return its result."""
        op = _Op(fn, asyncio.get_running_loop())
        with self._lock:  # so nothing is queued behind the stop marker, waiting forever
            if self._stopping:
                raise WriterClosed
            self._queue.put(op)
        result: T = await op.future
        return result

    def stop(self) -> None:
        """Finish the queued work, close the connection; blocks until done."""
        with self._lock:
            if not self._stopping:
                self._stopping = True
                self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            while self._serve_batch():
                pass
        finally:
            self._conn.close()

    def _serve_batch(self) -> bool:
        first = self._queue.get()
        if first is None:
            return False
        batch, more = [first], True
        while len(batch) < _MAX_BATCH:
            try:
                op = self._queue.get_nowait()
            except queue.Empty:
                break
            if op is None:
                more = False
                break
            batch.append(op)
        _deliver(self._commit(batch))
        return more

    def _commit(self, batch: list[_Op]) -> list[_Outcome]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            outcomes = [self._run_one(op) for op in batch]
            self._conn.execute("COMMIT")
        except Exception as exc:  # nothing of this batch is stored: tell every caller
            self._rollback()
            return [(op, None, exc) for op in batch]
        return outcomes

    def _rollback(self) -> None:
        # SQLite may have rolled back already (I/O error, disk full); the
        # callers get the original cause either way.
        with contextlib.suppress(sqlite3.Error):
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def _run_one(self, op: _Op) -> _Outcome:
        self._conn.execute("SAVEPOINT op")
        try:
            result = op.fn(self._conn)
        except Exception as exc:
            try:
                self._conn.execute("ROLLBACK TO op")
                self._conn.execute("RELEASE op")
            except sqlite3.Error:
                # The transaction is gone: fail the whole batch with the
                # cause rather than with "no such savepoint".
                raise exc from None
            return (op, None, exc)
        self._conn.execute("RELEASE op")
        return (op, result, None)


def _deliver(outcomes: list[_Outcome]) -> None:
    # One wake-up per event loop rather than one per caller.
    by_loop: defaultdict[asyncio.AbstractEventLoop, list[_Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_loop[outcome[0].loop].append(outcome)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody waiting
            loop.call_soon_threadsafe(_settle, items)
