"""The embedded store's plumbing: one SQLite file in WAL mode, opened and
closed here, and read and written by the concern mixins (sqlite_*.py).

Writes go through one connection owned by one thread with group commit
(see _group_commit): a caller is never told "stored" before its commit is
on disk, and under load many callers share one fsync.

Reads use separate connections from a small thread pool: WAL lets them run
next to the writer, and they see only committed data.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from gateway.errors import StoreError
from gateway.store import _sqlite_migrate as migration
from gateway.store._codec import to_micros
from gateway.store._group_commit import GroupCommitWriter, WriterClosed

T = TypeVar("T")
Conn = sqlite3.Connection

_SYNC_MODES = {"full": "FULL", "normal": "NORMAL"}
_READERS = 4
DEFAULT_TIMEOUT_SECONDS = 5.0

# One row, rewritten by the write probe of /healthz.
SCHEMA = """
CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
"""


def _connect(path: Path, schema: str, *, writer: bool, sync: str, timeout: float) -> Conn:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {max(1, round(timeout * 1000))}")
        if writer:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {_SYNC_MODES[sync]}")
            conn.execute("PRAGMA foreign_keys = ON")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            conn.executescript(schema)
            migration.migrate(conn, version)
            # 2: partners and cache; 3: settlement ledger; 4: unambiguous keys;
            # 5: partners' address_suspect
            # 6: event feed and webhooks
            # 7: listing by recipient and sender, recipient accounts
            conn.execute(f"PRAGMA user_version = {migration.VERSION}")
        else:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteBase:
    """Lifecycle, health and the read/write plumbing the concerns share."""

    # The whole file's schema: SqliteStore joins the SCHEMA of each concern.
    schema: ClassVar[str] = SCHEMA

    def __init__(
        self, path: str | Path, *, sync: str = "full", timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        if sync not in _SYNC_MODES:
            raise ValueError(f"sync must be one of {sorted(_SYNC_MODES)}, not {sync!r}")
        self._path = Path(path)
        self._sync = sync
        self._timeout = timeout
        self._writer: GroupCommitWriter | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[Conn] = []
        self._reader_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        try:
            conn = await asyncio.to_thread(self._open_writer)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc
        self._writer = GroupCommitWriter(conn)
        self._readers = ThreadPoolExecutor(_READERS, thread_name_prefix="sqlite-reader")

    def _open_writer(self) -> Conn:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        return self._connect(writer=True)

    def _connect(self, *, writer: bool) -> Conn:
        return _connect(
            self._path, self.schema, writer=writer, sync=self._sync, timeout=self._timeout
        )

    async def close(self) -> None:
        writer, readers = self._writer, self._readers
        self._writer = self._readers = None
        if writer is not None:
            await asyncio.to_thread(writer.stop)
        if readers is not None:
            await asyncio.to_thread(readers.shutdown)
        with self._reader_lock:
            conns, self._reader_conns = self._reader_conns, []
        for conn in conns:
            conn.close()

    async def probe_write(self, now: datetime, *, room: int = 0) -> None:
        # The row fits in a page the file already has, so a full disk may
        # not stop it: free space is checked as well.
        at = to_micros(now)
        sql = "INSERT OR REPLACE INTO heartbeat (id, at) VALUES (1, ?)"
        await self._write(lambda conn: conn.execute(sql, (at,)).rowcount)
        try:
            free = await asyncio.to_thread(_free_bytes, self._path.parent)
        except OSError as exc:
            raise self._error(exc) from exc
        if free < room:
            raise self._error(OSError(f"only {free} bytes free on its disk, {room} needed"))

    # -- plumbing ----------------------------------------------------------

    def _error(self, exc: BaseException) -> StoreError:
        return StoreError(f"sqlite store {self._path}: {exc}")

    async def _write(self, fn: Callable[[Conn], T]) -> T:
        """Run ``fn`` on the writer, in a transaction of its own (a savepoint)."""
        if self._writer is None:
            raise StoreError(f"sqlite store {self._path} is not open")
        try:
            return await self._writer.call(fn)
        except WriterClosed:
            raise StoreError(f"sqlite store {self._path} is closing") from None
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    async def _read(self, fn: Callable[[Conn], T]) -> T:
        if self._readers is None:
            raise StoreError(f"sqlite store {self._path} is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._readers, self._with_reader, fn)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _with_reader(self, fn: Callable[[Conn], T]) -> T:
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(writer=False)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return fn(conn)

    async def _scalar(self, sql: str, *params: Any) -> Any:
        def run(conn: Conn) -> Any:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else row[0]

        return await self._read(run)


def _free_bytes(directory: Path) -> int:
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize
