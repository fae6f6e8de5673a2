"""New outbox rows of the embedded store, written inside another write (a
document's acceptance, an admin's retry): shared by sqlite_documents,
sqlite_outbox and sqlite_listing."""

from __future__ import annotations

import sqlite3

from gateway.model import OutboxJob
from gateway.store._codec import to_micros

JobRow = tuple[str, str, int, int, int]


def job_row(job: OutboxJob) -> JobRow:
    """The row of a new job, made before the write (a naive time raises here)."""
    created, due = to_micros(job.created_at), to_micros(job.next_attempt_at)
    return (job.id, job.document_id, created, due, job.attempts)


def insert_job(conn: sqlite3.Connection, row: JobRow) -> None:
    """Queue a new job; a job id already queued raises sqlite3.IntegrityError."""
    conn.execute(
        "INSERT INTO outbox (job_id, doc_id, created_at, next_attempt_at, attempts)"
        " VALUES (?, ?, ?, ?, ?)",
        row,
    )
