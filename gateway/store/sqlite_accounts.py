"""Recipient accounts in the embedded store: one row per account (its token
only as a SHA-256), and one row per participant it reads, so "can anyone read
this participant's inbox?" is one index look-up."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gateway.errors import StoreError
from gateway.model import RecipientAccount
from gateway.store._codec import from_micros, to_micros
from gateway.store.sqlite_base import Conn, SqliteBase

SCHEMA = """
CREATE TABLE IF NOT EXISTS recipient_accounts (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    participants TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS recipient_reads (
    participant TEXT NOT NULL,
    name TEXT NOT NULL REFERENCES recipient_accounts(name),
    PRIMARY KEY (participant, name)
) WITHOUT ROWID;
"""

_SELECT = "SELECT name, token_sha256, participants, created_at, revoked FROM recipient_accounts"


def _account(row: tuple[Any, ...]) -> RecipientAccount:
    name, token, participants, created, revoked = row
    return RecipientAccount(
        name, token, tuple(json.loads(participants)), from_micros(created), bool(revoked)
    )


class SqliteAccounts(SqliteBase):
    async def add_recipient_account(self, account: RecipientAccount) -> None:
        created = to_micros(account.created_at)
        participants = list(dict.fromkeys(account.participants))

        def run(conn: Conn) -> None:
            taken = conn.execute(
                "SELECT name FROM recipient_accounts WHERE name = ? OR token_sha256 = ?",
                (account.name, account.token_sha256),
            ).fetchone()
            if taken is not None:
                what = "name" if taken[0] == account.name else "token"
                raise StoreError(f"a recipient account with that {what} exists already")
            conn.execute(
                "INSERT INTO recipient_accounts (name, token_sha256, participants, created_at,"
                " revoked) VALUES (?, ?, ?, ?, ?)",
                (account.name, account.token_sha256, json.dumps(participants), created, 0),
            )
            conn.executemany(
                "INSERT INTO recipient_reads (participant, name) VALUES (?, ?)",
                [(pid, account.name) for pid in participants],
            )

        await self._write(run)

    async def recipient_account_for_token_hash(self, token_sha256: str) -> RecipientAccount | None:
        def run(conn: Conn) -> RecipientAccount | None:
            sql = _SELECT + " WHERE token_sha256 = ? AND revoked = 0"
            row = conn.execute(sql, (token_sha256,)).fetchone()
            return None if row is None else _account(row)

        return await self._read(run)

    async def has_recipient_account(self, participant: str) -> bool:
        found = await self._scalar(
            "SELECT 1 FROM recipient_reads r JOIN recipient_accounts a ON a.name = r.name"
            " WHERE r.participant = ? AND a.revoked = 0 LIMIT 1",
            participant,
        )
        return found is not None

    async def list_recipient_accounts(self) -> list[RecipientAccount]:
        def run(conn: sqlite3.Connection) -> list[RecipientAccount]:
            return [_account(row) for row in conn.execute(_SELECT + " ORDER BY name")]

        return await self._read(run)

    async def revoke_recipient_account(self, name: str) -> bool:
        sql = "UPDATE recipient_accounts SET revoked = 1 WHERE name = ? AND revoked = 0"
        return bool(await self._write(lambda conn: conn.execute(sql, (name,)).rowcount))
