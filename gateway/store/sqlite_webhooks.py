"""Webhooks in the embedded store: subscriptions, the relay's cursor, and
the deliveries owed with every attempt made (see base.WebhookStore)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.errors import StoreError
from gateway.model.webhooks import (
    DeliveryStatus,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
)
from gateway.store._codec import from_micros, to_micros
from gateway.store.sqlite_base import Conn, SqliteBase

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    owner TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    status TEXT NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    n INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;
"""

_SELECT = (
    "SELECT id, owner, doc_id, type, body, created_at, next_attempt_at, attempts, status"
    " FROM webhook_deliveries"
)


def _delivery(row: tuple[Any, ...], history: tuple[WebhookAttempt, ...] = ()) -> WebhookDelivery:
    did, owner, doc, kind, body, created, due, attempts, status = row
    return WebhookDelivery(
        id=did,
        owner=owner,
        document_id=doc,
        type=kind,
        body=body,
        created_at=from_micros(created),
        next_attempt_at=from_micros(due),
        attempts=attempts,
        status=DeliveryStatus(status),
        history=history,
    )


def _history(conn: Conn, delivery_id: str) -> tuple[WebhookAttempt, ...]:
    sql = "SELECT at, status, error FROM webhook_attempts WHERE delivery_id = ? ORDER BY n"
    return tuple(
        WebhookAttempt(from_micros(at), status, error)
        for at, status, error in conn.execute(sql, (delivery_id,))
    )


def _cursor(conn: Conn) -> int:
    row = conn.execute("SELECT cursor FROM webhook_cursor WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


class SqliteWebhooks(SqliteBase):
    async def put_subscription(self, subscription: Subscription) -> None:
        s = subscription
        row = (s.owner, s.url, s.secret, to_micros(s.created_at))
        sql = (
            "INSERT OR REPLACE INTO webhook_subscriptions (owner, url, secret, created_at)"
            " VALUES (?, ?, ?, ?)"
        )
        await self._write(lambda conn: conn.execute(sql, row).rowcount)

    async def get_subscription(self, owner: str) -> Subscription | None:
        def run(conn: Conn) -> Subscription | None:
            sql = "SELECT url, secret, created_at FROM webhook_subscriptions WHERE owner = ?"
            row = conn.execute(sql, (owner,)).fetchone()
            if row is None:
                return None
            return Subscription(owner, row[0], bytes(row[1]), from_micros(row[2]))

        return await self._read(run)

    async def remove_subscription(self, owner: str) -> bool:
        sql = "DELETE FROM webhook_subscriptions WHERE owner = ?"
        return bool(await self._write(lambda conn: conn.execute(sql, (owner,)).rowcount))

    async def list_subscriptions(self) -> list[Subscription]:
        def run(conn: Conn) -> list[Subscription]:
            sql = "SELECT owner, url, secret, created_at FROM webhook_subscriptions ORDER BY owner"
            return [
                Subscription(o, u, bytes(s), from_micros(c)) for o, u, s, c in conn.execute(sql)
            ]

        return await self._read(run)

    async def webhook_cursor(self) -> int:
        return await self._read(_cursor)

    async def enqueue_webhooks(
        self, deliveries: Sequence[WebhookDelivery], *, expected: int, cursor: int
    ) -> bool:
        rows = [
            (
                d.id,
                d.owner,
                d.document_id,
                d.type,
                d.body,
                to_micros(d.created_at),
                to_micros(d.next_attempt_at),
                d.attempts,
                d.status.value,
            )
            for d in deliveries
        ]

        def run(conn: Conn) -> bool:
            if _cursor(conn) != expected:
                return False
            conn.executemany(
                "INSERT OR IGNORE INTO webhook_deliveries (id, owner, doc_id, type, body,"
                " created_at, next_attempt_at, attempts, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute(
                "INSERT OR REPLACE INTO webhook_cursor (id, cursor) VALUES (1, ?)", (cursor,)
            )
            return True

        return await self._write(run)

    async def claim_webhooks(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[WebhookDelivery]:
        if limit <= 0:
            return []
        at, until = to_micros(now), to_micros(now + lease)
        # Polled every second by every process: look with a reader first, so an
        # idle poll takes no write lock from the gateway's own writes.
        due = await self._scalar(
            "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
            " AND (lease_until IS NULL OR lease_until <= ?) LIMIT 1",
            at,
            at,
        )
        if due is None:
            return []

        def run(conn: Conn) -> list[WebhookDelivery]:
            rows = conn.execute(
                _SELECT + " WHERE status = 'pending' AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (at, at, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?",
                [(owner, until, row[0]) for row in rows],
            )
            return [_delivery(row, _history(conn, row[0])) for row in rows]

        return await self._write(run)

    async def record_webhook_attempt(
        self,
        delivery_id: str,
        attempt: WebhookAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None = None,
        owner: str | None = None,
    ) -> bool:
        at = to_micros(attempt.at)
        due = None if next_attempt_at is None else to_micros(next_attempt_at)

        def run(conn: Conn) -> bool:
            sql = "SELECT attempts, lease_owner FROM webhook_deliveries WHERE id = ?"
            row = conn.execute(sql, (delivery_id,)).fetchone()
            if row is None:
                raise StoreError(f"no webhook delivery {delivery_id!r} in the sqlite store")
            attempts, holder = row
            if owner is not None and holder != owner:
                return False
            conn.execute(
                "INSERT INTO webhook_attempts (delivery_id, n, at, status, error)"
                " VALUES (?, ?, ?, ?, ?)",
                (delivery_id, attempts + 1, at, attempt.status, attempt.error),
            )
            conn.execute(
                "UPDATE webhook_deliveries SET attempts = ?, status = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at),"
                " lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (attempts + 1, status.value, due, delivery_id),
            )
            return True

        return await self._write(run)

    async def release_webhook_leases(self, owner: str | None = None) -> int:
        def run(conn: Conn) -> int:
            sql = "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL"
            if owner is None:
                return conn.execute(sql + " WHERE lease_owner IS NOT NULL").rowcount
            return conn.execute(sql + " WHERE lease_owner = ?", (owner,)).rowcount

        return await self._write(run)

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        def run(conn: Conn) -> WebhookDelivery | None:
            sql = _SELECT + " WHERE id = ?"
            row = conn.execute(sql, (delivery_id,)).fetchone()
            return None if row is None else _delivery(row, _history(conn, delivery_id))

        return await self._read(run)

    async def list_webhook_deliveries(
        self, *, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        def run(conn: Conn) -> list[WebhookDelivery]:
            params: tuple[Any, ...]
            if status is None:
                sql, params = _SELECT + " ORDER BY rowid DESC LIMIT ?", (max(0, limit),)
            else:
                sql = _SELECT + " WHERE status = ? ORDER BY rowid DESC LIMIT ?"
                params = (status.value, max(0, limit))
            rows = conn.execute(sql, params).fetchall()
            return [_delivery(row, _history(conn, row[0])) for row in rows]

        return await self._read(run)
