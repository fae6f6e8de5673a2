"""The event feed of the embedded store, written inside the transaction that
appends a document's status events (see _sqlite_events.append): an event is
in the feed exactly when it is in the document's history."""

from __future__ import annotations

import json
import sqlite3

# AUTOINCREMENT: a cursor is never handed out twice, even if rows are dropped.
SCHEMA = """
CREATE TABLE IF NOT EXISTS feed (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    state TEXT NOT NULL
);
"""


def record(conn: sqlite3.Connection, document_id: str, events: list[str]) -> None:
    """Number each JSON event of ``document_id`` in the feed."""
    conn.executemany(
        "INSERT INTO feed (doc_id, state) VALUES (?, ?)",
        [(document_id, json.loads(event)["state"]) for event in events],
    )
