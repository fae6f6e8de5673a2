"""Reading the event feed of the embedded store (written by _sqlite_feed)."""

from __future__ import annotations

from gateway.model import State
from gateway.model.webhooks import FeedEntry
from gateway.store._sqlite_feed import SCHEMA as SCHEMA
from gateway.store.sqlite_base import Conn, SqliteBase


class SqliteFeed(SqliteBase):
    async def feed_after(self, cursor: int, limit: int) -> list[FeedEntry]:
        if limit <= 0:
            return []

        def run(conn: Conn) -> list[FeedEntry]:
            sql = "SELECT cursor, doc_id, state FROM feed WHERE cursor > ? ORDER BY cursor LIMIT ?"
            return [
                FeedEntry(n, doc, State(state))
                for n, doc, state in conn.execute(sql, (cursor, limit))
            ]

        return await self._read(run)
