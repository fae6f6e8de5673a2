"""The recipient portal in the embedded store: sessions (by the SHA-256 of
their id), the nonces of sign-in links already used, and the companies'
reception choices, one row per change (the newest is the one in force)."""

from __future__ import annotations

import json
from datetime import datetime

from gateway.model.portal import PortalChoice, PortalSession
from gateway.store._codec import from_micros, to_micros
from gateway.store.sqlite_base import Conn, SqliteBase

SCHEMA = """
CREATE TABLE IF NOT EXISTS portal_sessions (
    id_sha256 TEXT PRIMARY KEY,
    participant TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_sessions_expiry ON portal_sessions (expires_at);
CREATE TABLE IF NOT EXISTS portal_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_nonces_expiry ON portal_nonces (expires_at);
CREATE TABLE IF NOT EXISTS portal_choices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    participant TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_choices_by_participant ON portal_choices (participant, seq);
"""

_PURGE = 100  # expired rows dropped per write: bounded work per call


def _put_session(conn: Conn, s: PortalSession) -> None:
    now = to_micros(s.created_at)
    conn.execute(
        "DELETE FROM portal_sessions WHERE id_sha256 IN"
        " (SELECT id_sha256 FROM portal_sessions WHERE expires_at <= ? LIMIT ?)",
        (now, _PURGE),
    )
    conn.execute(
        "INSERT OR REPLACE INTO portal_sessions (id_sha256, participant, created_at, expires_at)"
        " VALUES (?, ?, ?, ?)",
        (s.id_sha256, s.participant, now, to_micros(s.expires_at)),
    )


def _use_nonce(conn: Conn, nonce: str, until: int, at: int) -> bool:
    conn.execute(
        "DELETE FROM portal_nonces WHERE nonce IN"
        " (SELECT nonce FROM portal_nonces WHERE expires_at <= ? LIMIT ?)",
        (at, _PURGE),
    )
    cursor = conn.execute(
        "INSERT OR IGNORE INTO portal_nonces (nonce, expires_at) VALUES (?, ?)",
        (nonce, max(until, at + 1)),
    )
    return cursor.rowcount == 1


class SqlitePortal(SqliteBase):
    async def put_portal_session(self, session: PortalSession) -> None:
        await self._write(lambda conn: _put_session(conn, session))

    async def portal_session(self, id_sha256: str, *, now: datetime) -> PortalSession | None:
        at = to_micros(now)

        def run(conn: Conn) -> PortalSession | None:
            row = conn.execute(
                "SELECT participant, created_at, expires_at FROM portal_sessions"
                " WHERE id_sha256 = ? AND expires_at > ?",
                (id_sha256, at),
            ).fetchone()
            if row is None:
                return None
            return PortalSession(id_sha256, row[0], from_micros(row[1]), from_micros(row[2]))

        return await self._read(run)

    async def delete_portal_session(self, id_sha256: str) -> bool:
        sql = "DELETE FROM portal_sessions WHERE id_sha256 = ?"
        return bool(await self._write(lambda conn: conn.execute(sql, (id_sha256,)).rowcount))

    async def use_link_nonce(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        until, at = to_micros(expires_at), to_micros(now)
        return await self._write(lambda conn: _use_nonce(conn, nonce, until, at))

    async def put_portal_choice(self, choice: PortalChoice) -> None:
        record = json.dumps(choice.to_json())
        sql = "INSERT INTO portal_choices (participant, record) VALUES (?, ?)"
        await self._write(lambda conn: conn.execute(sql, (choice.participant, record)))

    async def portal_choice(self, participant: str) -> PortalChoice | None:
        found = await self.portal_choices(participant, limit=1)
        return found[0] if found else None

    async def portal_choices(self, participant: str, *, limit: int = 20) -> list[PortalChoice]:
        def run(conn: Conn) -> list[PortalChoice]:
            rows = conn.execute(
                "SELECT record FROM portal_choices WHERE participant = ? ORDER BY seq DESC LIMIT ?",
                (participant, limit),
            )
            return [PortalChoice.from_json(json.loads(row[0])) for row in rows]

        return await self._read(run)
