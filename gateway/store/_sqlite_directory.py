"""The partner directory and the look-up cache in the embedded store: schema
and statements, as functions of a connection that SqliteStore runs on its
writer thread or its readers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from gateway.model import Partner
from gateway.store._codec import partner_from_row, partner_row

# Multi-valued columns are encoded by _codec.dump_values. A rowid table on
# purpose: imports insert ids in random order, and random inserts into the
# small id index cost far less than into a WITHOUT ROWID table of whole rows
# (1M partners: 11 s against 43 s, most of it WAL pages rewritten per batch).
SCHEMA = """
CREATE TABLE IF NOT EXISTS partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    network TEXT NOT NULL,
    document_types TEXT NOT NULL,
    reception TEXT NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    country TEXT NOT NULL
);
-- expires_at: integer microseconds since the epoch (see _codec)
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_expiry ON cache (expires_at);
"""

_PUT = (
    "INSERT OR REPLACE INTO partners"
    " (id, name, network, document_types, reception, email, address, country)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT id, name, network, document_types, reception, email, address, country FROM partners"
)
_CACHE_PURGE = 100  # expired cache rows dropped per write: bounded work per call

Row = tuple[str, str, str, str, str, str, str, str]


def partner_rows(partners: Sequence[Partner]) -> list[Row]:
    """Rows to write: the last occurrence of an id wins, as in a sequence of
    upserts; sorted by id, so one batch's index inserts land together."""
    return sorted({p.id: partner_row(p) for p in partners}.values())


def put_partners(conn: sqlite3.Connection, rows: list[Row]) -> None:
    conn.executemany(_PUT, rows)


def get_partner(conn: sqlite3.Connection, pid: str) -> Partner | None:
    row = conn.execute(_SELECT + " WHERE id = ?", (pid,)).fetchone()
    return None if row is None else partner_from_row(row)


def list_partners(conn: sqlite3.Connection, after: str, limit: int) -> list[Partner]:
    sql = _SELECT + " WHERE id > ? ORDER BY id LIMIT ?"
    return [partner_from_row(row) for row in conn.execute(sql, (after, limit))]


def cache_put(conn: sqlite3.Connection, key: str, value: bytes, at: int, until: int) -> None:
    conn.execute(
        "DELETE FROM cache WHERE key IN (SELECT key FROM cache WHERE expires_at <= ? LIMIT ?)",
        (at, _CACHE_PURGE),
    )
    conn.execute(
        "INSERT OR REPLACE INTO cache (key, value, expires_at) VALUES (?, ?, ?)",
        (key, value, until),
    )


def cache_get(conn: sqlite3.Connection, key: str, at: int) -> bytes | None:
    sql = "SELECT value FROM cache WHERE key = ? AND expires_at > ?"
    row = conn.execute(sql, (key, at)).fetchone()
    return None if row is None else bytes(row[0])
