"""The look-up cache in the embedded store: a key-value table with expiry
times, checked against the caller's clock."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.store._codec import expiry_micros, to_micros
from gateway.store.sqlite_base import SqliteBase

# expires_at: integer microseconds since the epoch (see _codec)
SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_expiry ON cache (expires_at);
"""

_PURGE = 100  # expired rows dropped per write: bounded work per call


def _put(conn: sqlite3.Connection, key: str, value: bytes, at: int, until: int) -> None:
    conn.execute(
        "DELETE FROM cache WHERE key IN (SELECT key FROM cache WHERE expires_at <= ? LIMIT ?)",
        (at, _PURGE),
    )
    conn.execute(
        "INSERT OR REPLACE INTO cache (key, value, expires_at) VALUES (?, ?, ?)",
        (key, value, until),
    )


def _get(conn: sqlite3.Connection, key: str, at: int) -> bytes | None:
    sql = "SELECT value FROM cache WHERE key = ? AND expires_at > ?"
    row = conn.execute(sql, (key, at)).fetchone()
    return None if row is None else bytes(row[0])


class SqliteCache(SqliteBase):
    async def cache_put(self, key: str, value: bytes, ttl_seconds: float, *, now: datetime) -> None:
        at, until = to_micros(now), expiry_micros(now, ttl_seconds)
        await self._write(lambda conn: _put(conn, key, value, at, until))

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None:
        at = to_micros(now)
        return await self._read(lambda conn: _get(conn, key, at))
