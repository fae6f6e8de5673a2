"""The settlement ledger in the embedded store: one row per document and
way, counted by month."""

from __future__ import annotations

import sqlite3

from gateway.model import Exchange, ExchangeCount
from gateway.store.sqlite_base import SqliteBase

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    document_id TEXT NOT NULL,
    way TEXT NOT NULL,
    month TEXT NOT NULL,
    peer TEXT NOT NULL,
    agreement TEXT NOT NULL,
    document_type TEXT NOT NULL,
    PRIMARY KEY (document_id, way)
);
CREATE INDEX IF NOT EXISTS ledger_month ON ledger (month);
"""


def _record(conn: sqlite3.Connection, e: Exchange) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO ledger (document_id, way, month, peer, agreement, document_type)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (e.document_id, e.way, e.month, e.peer, e.agreement, e.document_type),
    )


def _counts(conn: sqlite3.Connection, month: str) -> list[ExchangeCount]:
    rows = conn.execute(
        "SELECT peer, agreement, way, document_type, COUNT(*) FROM ledger WHERE month = ?"
        " GROUP BY peer, agreement, way, document_type"
        " ORDER BY peer, agreement, way, document_type",
        (month,),
    ).fetchall()
    return [ExchangeCount(p, a, w, d, int(n)) for p, a, w, d, n in rows]


class SqliteLedger(SqliteBase):
    async def record_exchange(self, exchange: Exchange) -> None:
        await self._write(lambda conn: _record(conn, exchange))

    async def exchanges(self, month: str) -> list[ExchangeCount]:
        return await self._read(lambda conn: _counts(conn, month))
