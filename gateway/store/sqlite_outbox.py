"""The outbox of the embedded store: jobs due for delivery, leased to one
worker at a time. Jobs enter with a document (sqlite_documents.accept)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.model import OutboxJob, StatusEvent
from gateway.store._codec import dump_events, from_micros, to_micros
from gateway.store._sqlite_events import append_checked
from gateway.store.sqlite_base import Conn, SqliteBase
from gateway.store.sqlite_listing import relist

# Times are integer microseconds since the epoch (see _codec).
SCHEMA = """
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
"""


def _job(row: tuple[Any, ...]) -> OutboxJob:
    job_id, document_id, created_at, next_attempt_at, attempts = row
    return OutboxJob(
        id=job_id,
        document_id=document_id,
        created_at=from_micros(created_at),
        next_attempt_at=from_micros(next_attempt_at),
        attempts=attempts,
    )


def _lease_lost(conn: Conn, job_id: str, owner: str | None) -> bool:
    """True when ``owner`` no longer holds the job: its lease expired and
    another worker claimed it. A finished (absent) job is not "lost"."""
    if owner is None:
        return False
    row = conn.execute("SELECT lease_owner FROM outbox WHERE job_id = ?", (job_id,)).fetchone()
    return row is not None and row[0] != owner


class SqliteOutbox(SqliteBase):
    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[OutboxJob]:
        if limit <= 0:
            return []
        at, until = to_micros(now), to_micros(now + lease)

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
            append_checked(conn, job.document_id, event_json)
            relist(conn, job.document_id, event_json)
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
            append_checked(conn, job.document_id, event_json)
            relist(conn, job.document_id, event_json)
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
