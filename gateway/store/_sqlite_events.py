"""Appending to a document's status history inside a write of the embedded
store: shared by the documents (append_events) and the outbox (finish and
retry record their outcome with the job's change)."""

from __future__ import annotations

import sqlite3

from gateway.errors import StoreError
from gateway.store import _sqlite_feed


def require_document(conn: sqlite3.Connection, document_id: str) -> None:
    if conn.execute("SELECT 1 FROM documents WHERE id = ?", (document_id,)).fetchone() is None:
        raise StoreError(f"no document {document_id!r} in the sqlite store")


def append(
    conn: sqlite3.Connection, document_id: str, events: list[str], *, after: int | None = None
) -> None:
    """Append JSON events after the last one (or after ``after``, when known)."""
    if after is None:
        sql = "SELECT COALESCE(MAX(seq), 0) FROM events WHERE doc_id = ?"
        (after,) = conn.execute(sql, (document_id,)).fetchone()
    conn.executemany(
        "INSERT INTO events (doc_id, seq, event) VALUES (?, ?, ?)",
        [(document_id, after + n, event) for n, event in enumerate(events, start=1)],
    )
    _sqlite_feed.record(conn, document_id, events)


def append_checked(conn: sqlite3.Connection, document_id: str, events: list[str]) -> None:
    # No events, no check: the worker drops an orphan job with finish_job(job, []).
    if events:
        require_document(conn, document_id)
        append(conn, document_id, events)
