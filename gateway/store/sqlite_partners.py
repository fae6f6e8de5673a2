"""The partner directory in the embedded store."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from gateway.model import Partner
from gateway.store._codec import partner_from_row, partner_row
from gateway.store.sqlite_base import SqliteBase

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
    country TEXT NOT NULL,
    address_suspect TEXT NOT NULL DEFAULT ''
);
"""

_PUT = (
    "INSERT OR REPLACE INTO partners"
    " (id, name, network, document_types, reception, email, address, country, address_suspect)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT id, name, network, document_types, reception, email, address, country,"
    " address_suspect FROM partners"
)

Row = tuple[str, str, str, str, str, str, str, str, str]


def _rows(partners: Sequence[Partner]) -> list[Row]:
    """Rows to write: the last occurrence of an id wins, as in a sequence of
    upserts; sorted by id, so one batch's index inserts land together."""
    return sorted({p.id: partner_row(p) for p in partners}.values())


def _get(conn: sqlite3.Connection, pid: str) -> Partner | None:
    row = conn.execute(_SELECT + " WHERE id = ?", (pid,)).fetchone()
    return None if row is None else partner_from_row(row)


def _list(conn: sqlite3.Connection, after: str, limit: int) -> list[Partner]:
    sql = _SELECT + " WHERE id > ? ORDER BY id LIMIT ?"
    return [partner_from_row(row) for row in conn.execute(sql, (after, limit))]


class SqlitePartners(SqliteBase):
    async def put_partners(self, partners: Sequence[Partner]) -> None:
        if partners:
            rows = _rows(partners)
            await self._write(lambda conn: conn.executemany(_PUT, rows).rowcount)

    async def get_partner(self, pid: str) -> Partner | None:
        return await self._read(lambda conn: _get(conn, pid))

    async def list_partners(self, *, after: str = "", limit: int = 100) -> list[Partner]:
        if limit <= 0:
            return []
        return await self._read(lambda conn: _list(conn, after, limit))

    async def count_partners(self) -> int:
        return int(await self._scalar("SELECT COUNT(*) FROM partners"))
