"""Listing documents by recipient and by sender in the embedded store: the
``listing`` table, one row per document with its current state, and an index
per way of asking, so a page is a short index walk whatever the store holds.

The row is written with the document (``list_new``) and its state refreshed
wherever events are appended (``relist``): both run inside those writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from gateway.model import ListingPage, ListingQuery, OutboxJob, State, StatusEvent
from gateway.store import _listing
from gateway.store._codec import dump_events, to_micros
from gateway.store._sqlite_events import append
from gateway.store._sqlite_jobs import insert_job, job_row
from gateway.store.sqlite_base import Conn, SqliteBase

SCHEMA = """
CREATE TABLE IF NOT EXISTS listing (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id),
    recipient TEXT NOT NULL,
    origin TEXT NOT NULL,
    at INTEGER NOT NULL,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS listing_recipient ON listing (recipient, at, doc_id);
CREATE INDEX IF NOT EXISTS listing_recipient_state ON listing (recipient, state, at, doc_id);
CREATE INDEX IF NOT EXISTS listing_origin ON listing (origin, at, doc_id);
CREATE INDEX IF NOT EXISTS listing_origin_state ON listing (origin, state, at, doc_id);
"""

_SELECT = (
    "SELECT l.at, l.doc_id, d.meta, l.state FROM listing l JOIN documents d ON d.id = l.doc_id"
)


def list_new(conn: sqlite3.Connection, entry: _listing.Entry, events: Sequence[str]) -> None:
    """Index a new document, in the write that stores it."""
    conn.execute(
        "INSERT INTO listing (doc_id, recipient, origin, at, state) VALUES (?, ?, ?, ?, ?)",
        (entry.document_id, entry.recipient, entry.origin, entry.micros, ""),
    )
    relist(conn, entry.document_id, events)


def relist(conn: sqlite3.Connection, document_id: str, events: Sequence[str]) -> None:
    """Keep the current state right after ``events`` were appended."""
    state = _listing.last_state(events)
    if state is not None:
        conn.execute("UPDATE listing SET state = ? WHERE doc_id = ?", (state, document_id))


def _rows(
    conn: Conn, column: str, value: str, query: ListingQuery
) -> list[tuple[int, str, str, str]]:
    where = [f"l.{column} = ?"]
    params: list[Any] = [value]
    if query.state is not None:
        where.append("l.state = ?")
        params.append(query.state.value)
    if query.since is not None:
        where.append("l.at >= ?")
        params.append(to_micros(query.since))
    if query.cursor is not None:
        where.append("(l.at, l.doc_id) < (?, ?)")
        params += [query.cursor.micros, query.cursor.document_id]
    # Only placeholders and the fixed clauses above are joined in: no input.
    clauses = " AND ".join(where)
    sql = f"{_SELECT} WHERE {clauses} ORDER BY l.at DESC, l.doc_id DESC LIMIT ?"
    return conn.execute(sql, [*params, query.limit + 1]).fetchall()


class SqliteListing(SqliteBase):
    async def list_for_recipients(
        self, participants: Sequence[str], query: ListingQuery
    ) -> ListingPage:
        # One index walk per participant, merged here: cheaper than letting
        # SQLite sort every document of all of them.
        def run(conn: Conn) -> ListingPage:
            rows: list[tuple[int, str, str | bytes, str]] = []
            for pid in dict.fromkeys(participants):
                rows += _rows(conn, "recipient", pid, query)
            return _listing.page(rows, query)

        return await self._read(run)

    async def append_if_current(
        self,
        document_id: str,
        event: StatusEvent,
        allowed: Collection[State],
        *,
        job: OutboxJob | None = None,
    ) -> State | None:
        events = dump_events([event])
        queued = job_row(job) if job is not None else None

        def run(conn: Conn) -> State | None:
            sql = "SELECT state FROM listing WHERE doc_id = ?"
            row = conn.execute(sql, (document_id,)).fetchone()
            if row is None:
                return None
            current = State(row[0] or "received")
            if current in allowed:
                append(conn, document_id, events)
                relist(conn, document_id, events)
                if queued is not None:
                    insert_job(conn, queued)
            return current

        return await self._write(run)

    async def list_for_origin(self, origin: str, query: ListingQuery) -> ListingPage:
        def run(conn: Conn) -> ListingPage:
            rows: list[tuple[int, str, str | bytes, str]] = []
            if origin:
                rows += _rows(conn, "origin", origin, query)
            return _listing.page(rows, query)

        return await self._read(run)
