"""The embedded store: one SQLite file in WAL mode.

Writes go through one connection owned by one thread with group commit
(see _group_commit): a caller is never told "stored" before its commit is
on disk, and under load many callers share one fsync.

Reads use separate connections from a small thread pool: WAL lets them run
next to the writer, and they see only committed data.

Writes that would break the contract (a document or job id already stored,
events or blobs for an unknown document) raise StoreError and write nothing.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from gateway.errors import StoreError
from gateway.model import (
    AcceptResult,
    DocumentMeta,
    Exchange,
    ExchangeCount,
    OutboxJob,
    Partner,
    StatusEvent,
)
from gateway.store import _sqlite_directory as dirsql
from gateway.store import _sqlite_ledger as ledgersql
from gateway.store import _sqlite_migrate as migration
from gateway.store._codec import (
    dump_events,
    dump_meta,
    expiry_micros,
    from_micros,
    load_event,
    load_meta,
    span_micros,
    to_micros,
)
from gateway.store._group_commit import GroupCommitWriter, WriterClosed
from gateway.store.base import accept_keys

T = TypeVar("T")
Conn = sqlite3.Connection

_SYNC_MODES = {"full": "FULL", "normal": "NORMAL"}
_READERS = 4
DEFAULT_TIMEOUT_SECONDS = 5.0
# 2: partners and cache; 3: settlement ledger; 4: unambiguous keys (_sqlite_migrate)
_SCHEMA_VERSION = migration.VERSION

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    meta TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (doc_id, name)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id),
    fingerprint TEXT NOT NULL
);
-- times are integer microseconds since the epoch (see _codec)
CREATE TABLE IF NOT EXISTS outbox (
    job_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id),
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_next_attempt ON outbox (next_attempt_at);
-- one row, rewritten by the write probe of /healthz
CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
"""


def _connect(path: Path, *, writer: bool, sync: str, timeout: float) -> Conn:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {max(1, round(timeout * 1000))}")
        if writer:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {_SYNC_MODES[sync]}")
            conn.execute("PRAGMA foreign_keys = ON")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            conn.executescript(_SCHEMA + dirsql.SCHEMA + ledgersql.SCHEMA)
            migration.migrate(conn, version)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        else:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _require_document(conn: Conn, document_id: str) -> None:
    if conn.execute("SELECT 1 FROM documents WHERE id = ?", (document_id,)).fetchone() is None:
        raise StoreError(f"no document {document_id!r} in the sqlite store")


def _append(conn: Conn, document_id: str, events: list[str], *, after: int | None = None) -> None:
    if after is None:
        sql = "SELECT COALESCE(MAX(seq), 0) FROM events WHERE doc_id = ?"
        (after,) = conn.execute(sql, (document_id,)).fetchone()
    conn.executemany(
        "INSERT INTO events (doc_id, seq, event) VALUES (?, ?, ?)",
        [(document_id, after + n, event) for n, event in enumerate(events, start=1)],
    )


def _append_checked(conn: Conn, document_id: str, events: list[str]) -> None:
    # No events, no check: the worker drops an orphan job with finish_job(job, []).
    if events:
        _require_document(conn, document_id)
        _append(conn, document_id, events)


def _claimed(conn: Conn, keys: list[str], fingerprint: str) -> AcceptResult | None:
    """The document holding the first of ``keys`` already claimed, if any."""
    for key in keys:
        sql = "SELECT doc_id, fingerprint FROM idempotency WHERE key = ?"
        prior = conn.execute(sql, (key,)).fetchone()
        if prior is not None:
            matches = prior[1] == fingerprint
            return AcceptResult(prior[0], created=False, fingerprint_matches=matches, key=key)
    return None


def _check_job(meta: DocumentMeta, job: OutboxJob | None) -> None:
    if job is not None and job.document_id != meta.id:
        raise ValueError(f"job {job.id!r} is for document {job.document_id!r}, not {meta.id!r}")


def _job(row: tuple[Any, ...]) -> OutboxJob:
    job_id, document_id, created_at, next_attempt_at, attempts = row
    return OutboxJob(
        id=job_id,
        document_id=document_id,
        created_at=from_micros(created_at),
        next_attempt_at=from_micros(next_attempt_at),
        attempts=attempts,
    )


class SqliteStore:
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
        return _connect(self._path, writer=True, sync=self._sync, timeout=self._timeout)

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

    # -- plumbing ----------------------------------------------------------

    def _error(self, exc: BaseException) -> StoreError:
        return StoreError(f"sqlite store {self._path}: {exc}")

    async def _write(self, fn: Callable[[Conn], T]) -> T:
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
            conn = _connect(self._path, writer=False, sync=self._sync, timeout=self._timeout)
            self._local.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return fn(conn)

    async def _scalar(self, sql: str, *params: Any) -> Any:
        def run(conn: Conn) -> Any:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else row[0]

        return await self._read(run)

    # -- documents ---------------------------------------------------------

    async def accept(
        self,
        meta: DocumentMeta,
        payload: bytes,
        events: Sequence[StatusEvent],
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
        job: OutboxJob | None = None,
        keys: Sequence[str] = (),
    ) -> AcceptResult:
        _check_job(meta, job)
        meta_json, event_json = dump_meta(meta), dump_events(events)
        claims = accept_keys(idempotency_key, keys)
        job_row = None
        if job is not None:
            created, due = to_micros(job.created_at), to_micros(job.next_attempt_at)
            job_row = (job.id, job.document_id, created, due, job.attempts)

        def run(conn: Conn) -> AcceptResult:
            prior = _claimed(conn, claims, fingerprint)
            if prior is not None:
                return prior
            conn.execute(
                "INSERT INTO documents (id, meta, payload) VALUES (?, ?, ?)",
                (meta.id, meta_json, payload),
            )
            _append(conn, meta.id, event_json, after=0)  # a new document has no events yet
            conn.executemany(
                "INSERT INTO idempotency (key, doc_id, fingerprint) VALUES (?, ?, ?)",
                [(key, meta.id, fingerprint) for key in claims],
            )
            if job_row is not None:
                conn.execute(
                    "INSERT INTO outbox (job_id, doc_id, created_at, next_attempt_at, attempts)"
                    " VALUES (?, ?, ?, ?, ?)",
                    job_row,
                )
            return AcceptResult(meta.id, created=True)

        return await self._write(run)

    async def get_meta(self, document_id: str) -> DocumentMeta | None:
        text = await self._scalar("SELECT meta FROM documents WHERE id = ?", document_id)
        return None if text is None else load_meta(text)

    async def get_payload(self, document_id: str) -> bytes | None:
        data = await self._scalar("SELECT payload FROM documents WHERE id = ?", document_id)
        return None if data is None else bytes(data)

    async def history(self, document_id: str) -> list[StatusEvent]:
        def run(conn: Conn) -> list[str]:
            sql = "SELECT event FROM events WHERE doc_id = ? ORDER BY seq"
            return [row[0] for row in conn.execute(sql, (document_id,))]

        return [load_event(text) for text in await self._read(run)]

    async def append_events(self, document_id: str, events: Sequence[StatusEvent]) -> None:
        event_json = dump_events(events)

        def run(conn: Conn) -> None:
            _append_checked(conn, document_id, event_json)

        await self._write(run)

    async def put_blob(self, document_id: str, name: str, data: bytes) -> None:
        def run(conn: Conn) -> None:
            _require_document(conn, document_id)
            conn.execute(
                "INSERT OR REPLACE INTO blobs (doc_id, name, data) VALUES (?, ?, ?)",
                (document_id, name, data),
            )

        await self._write(run)

    async def get_blob(self, document_id: str, name: str) -> bytes | None:
        sql = "SELECT data FROM blobs WHERE doc_id = ? AND name = ?"
        data = await self._scalar(sql, document_id, name)
        return None if data is None else bytes(data)

    async def find_by_key(self, idempotency_key: str) -> str | None:
        found = await self._scalar("SELECT doc_id FROM idempotency WHERE key = ?", idempotency_key)
        return None if found is None else str(found)

    async def count_documents(self) -> int:
        return int(await self._scalar("SELECT COUNT(*) FROM documents"))

    async def list_documents(
        self, *, since: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> list[DocumentMeta]:
        # Insertion order is arrival order. `since` is compared as a time, not
        # as the stored text (which drops zero microseconds); rows are read
        # only until the page is full.
        def run(conn: Conn) -> list[DocumentMeta]:
            page: list[DocumentMeta] = []
            skipped = 0
            if limit <= 0:
                return page
            for (text,) in conn.execute("SELECT meta FROM documents ORDER BY rowid DESC"):
                m = load_meta(text)
                if since is not None and m.received_at < since:
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                page.append(m)
                if len(page) == limit:
                    break
            return page

        return await self._read(run)

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

    # -- outbox ------------------------------------------------------------

    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[OutboxJob]:
        if limit <= 0:
            return []
        at = to_micros(now)
        until = at + span_micros(lease)

        def run(conn: Conn) -> list[OutboxJob]:
            rows = conn.execute(
                "SELECT job_id, doc_id, created_at, next_attempt_at, attempts FROM outbox"
                " WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY next_attempt_at, job_id LIMIT ?",
                (at, at, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE job_id = ?",
                [(owner, until, row[0]) for row in rows],
            )
            return [_job(row) for row in rows]

        return await self._write(run)

    async def finish_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        event_json = dump_events(events)

        def run(conn: Conn) -> bool:
            if _lease_lost(conn, job.id, owner):
                return False
            conn.execute("DELETE FROM outbox WHERE job_id = ?", (job.id,))
            _append_checked(conn, job.document_id, event_json)
            return True

        return await self._write(run)

    async def retry_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        event_json = dump_events(events)
        next_at = to_micros(job.next_attempt_at)

        def run(conn: Conn) -> bool:
            if _lease_lost(conn, job.id, owner):
                return False
            # A job finished meanwhile stays finished: UPDATE, never re-insert.
            conn.execute(
                "UPDATE outbox SET attempts = ?, next_attempt_at = ?,"
                " lease_owner = NULL, lease_until = NULL WHERE job_id = ?",
                (job.attempts, next_at, job.id),
            )
            _append_checked(conn, job.document_id, event_json)
            return True

        return await self._write(run)

    async def release_leases(self, owner: str | None = None) -> int:
        def run(conn: Conn) -> int:
            sql = "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
            if owner is None:
                return conn.execute(sql + " WHERE lease_owner IS NOT NULL").rowcount
            return conn.execute(sql + " WHERE lease_owner = ?", (owner,)).rowcount

        return await self._write(run)

    async def outbox_depth(self) -> int:
        return int(await self._scalar("SELECT COUNT(*) FROM outbox"))

    async def next_due(self) -> datetime | None:
        earliest = await self._scalar("SELECT MIN(next_attempt_at) FROM outbox")
        return None if earliest is None else from_micros(earliest)

    # -- partner directory (SQL in _sqlite_directory) ------------------------

    async def put_partners(self, partners: Sequence[Partner]) -> None:
        if partners:
            rows = dirsql.partner_rows(partners)
            await self._write(lambda conn: dirsql.put_partners(conn, rows))

    async def get_partner(self, pid: str) -> Partner | None:
        return await self._read(lambda conn: dirsql.get_partner(conn, pid))

    async def list_partners(self, *, after: str = "", limit: int = 100) -> list[Partner]:
        if limit <= 0:
            return []
        return await self._read(lambda conn: dirsql.list_partners(conn, after, limit))

    async def count_partners(self) -> int:
        return int(await self._scalar("SELECT COUNT(*) FROM partners"))

    # -- look-up cache -----------------------------------------------------

    async def cache_put(self, key: str, value: bytes, ttl_seconds: float, *, now: datetime) -> None:
        at, until = to_micros(now), expiry_micros(now, ttl_seconds)
        await self._write(lambda conn: dirsql.cache_put(conn, key, value, at, until))

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None:
        at = to_micros(now)
        return await self._read(lambda conn: dirsql.cache_get(conn, key, at))

    # -- settlement ledger -------------------------------------------------

    async def record_exchange(self, exchange: Exchange) -> None:
        await self._write(lambda conn: ledgersql.record(conn, exchange))

    async def exchanges(self, month: str) -> list[ExchangeCount]:
        return await self._read(lambda conn: ledgersql.counts(conn, month))


def _free_bytes(directory: Path) -> int:
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize


def _lease_lost(conn: Conn, job_id: str, owner: str | None) -> bool:
    """True when ``owner`` no longer holds the job: its lease expired and
    another worker claimed it. A finished (absent) job is not "lost"."""
    if owner is None:
        return False
    row = conn.execute("SELECT lease_owner FROM outbox WHERE job_id = ?", (job_id,)).fetchone()
    return row is not None and row[0] != owner
