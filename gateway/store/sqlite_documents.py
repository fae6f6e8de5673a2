"""Documents in the embedded store: metadata, payload, status history,
blobs and the keys they were accepted under.

Writes that would break the contract (a document or job id already stored,
events or blobs for an unknown document) raise StoreError and write nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway.model import AcceptResult, DocumentMeta, StatusEvent
from gateway.store._acceptance import Acceptance, PlannedAccept
from gateway.store._codec import dump_events, load_event, load_meta
from gateway.store._listing import entry_from_json
from gateway.store._sqlite_events import append, append_checked, require_document
from gateway.store._sqlite_jobs import insert_job, job_row
from gateway.store.sqlite_base import Conn, SqliteBase
from gateway.store.sqlite_listing import list_new, relist

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    meta TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (doc_id, name)
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id),
    fingerprint TEXT NOT NULL
);
"""


def _claimed(conn: Conn, keys: list[str], fingerprint: str) -> AcceptResult | None:
    """The document holding the first of ``keys`` already claimed, if any."""
    for key in keys:
        sql = "SELECT doc_id, fingerprint FROM idempotency WHERE key = ?"
        prior = conn.execute(sql, (key,)).fetchone()
        if prior is not None:
            matches = prior[1] == fingerprint
            return AcceptResult(prior[0], created=False, fingerprint_matches=matches, key=key)
    return None


class SqliteDocuments(PlannedAccept, SqliteBase):
    async def _write_acceptance(self, plan: Acceptance) -> AcceptResult:
        row = None if plan.job is None else job_row(plan.job)
        entry = entry_from_json(plan.meta)

        def run(conn: Conn) -> AcceptResult:
            prior = _claimed(conn, plan.claims, plan.fingerprint)
            if prior is not None:
                return prior
            conn.execute(
                "INSERT INTO documents (id, meta, payload) VALUES (?, ?, ?)",
                (plan.document_id, plan.meta, plan.payload),
            )
            # A new document has no events yet.
            append(conn, plan.document_id, plan.events, after=0)
            list_new(conn, entry, plan.events)
            conn.executemany(
                "INSERT INTO idempotency (key, doc_id, fingerprint) VALUES (?, ?, ?)",
                [(key, plan.document_id, plan.fingerprint) for key in plan.claims],
            )
            if row is not None:
                insert_job(conn, row)
            return AcceptResult(plan.document_id, created=True)

        return await self._write(run)

    async def get_meta(self, document_id: str) -> DocumentMeta | None:
        text = await self._scalar("SELECT meta FROM documents WHERE id = ?", document_id)
        return None if text is None else load_meta(text)

    async def get_payload(self, document_id: str) -> bytes | None:
        data = await self._scalar("SELECT payload FROM documents WHERE id = ?", document_id)
        return None if data is None else bytes(data)

    async def history(self, document_id: str) -> list[StatusEvent]:
        def run(conn: Conn) -> list[str]:
            sql = "SELECT event FROM events WHERE doc_id = ? ORDER BY seq"
            return [row[0] for row in conn.execute(sql, (document_id,))]

        return [load_event(text) for text in await self._read(run)]

    async def append_events(self, document_id: str, events: Sequence[StatusEvent]) -> None:
        event_json = dump_events(events)

        def run(conn: Conn) -> None:
            append_checked(conn, document_id, event_json)
            relist(conn, document_id, event_json)

        await self._write(run)

    async def put_blob(self, document_id: str, name: str, data: bytes) -> None:
        def run(conn: Conn) -> None:
            require_document(conn, document_id)
            conn.execute(
                "INSERT OR REPLACE INTO blobs (doc_id, name, data) VALUES (?, ?, ?)",
                (document_id, name, data),
            )

        await self._write(run)

    async def get_blob(self, document_id: str, name: str) -> bytes | None:
        sql = "SELECT data FROM blobs WHERE doc_id = ? AND name = ?"
        data = await self._scalar(sql, document_id, name)
        return None if data is None else bytes(data)

    async def find_by_key(self, idempotency_key: str) -> str | None:
        found = await self._scalar("SELECT doc_id FROM idempotency WHERE key = ?", idempotency_key)
        return None if found is None else str(found)

    async def count_documents(self) -> int:
        return int(await self._scalar("SELECT COUNT(*) FROM documents"))

    async def list_documents(
        self, *, since: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> list[DocumentMeta]:
        # Insertion order is arrival order. `since` is compared as a time, not
        # as the stored text (which drops zero microseconds); rows are read
        # only until the page is full.
        def run(conn: Conn) -> list[DocumentMeta]:
            page: list[DocumentMeta] = []
            skipped = 0
            if limit <= 0:
                return page
            for (text,) in conn.execute("SELECT meta FROM documents ORDER BY rowid DESC"):
                m = load_meta(text)
                if since is not None and m.received_at < since:
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                page.append(m)
                if len(page) == limit:
                    break
            return page

        return await self._read(run)
