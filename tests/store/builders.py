"""Small factories for store tests: documents, events and jobs at fixed
times, a document put in the store, and the Backend the fixtures hand out."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.model import (
    Direction,
    DocumentKind,
    DocumentMeta,
    OutboxJob,
    State,
    StatusEvent,
)
from gateway.store.base import DocumentStore, Store

# Microseconds on purpose: the stores must give back exactly what they got.
T0 = datetime(2025, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
LEASE = timedelta(seconds=30)


def payload(size: int = 5_000, *, seed: str = "") -> bytes:
    head = f"<Invoice><cbc:ID>{seed or uuid.uuid4().hex}</cbc:ID>".encode()
    return head + b"x" * max(0, size - len(head))


def meta(body: bytes, *, doc_id: str | None = None, at: datetime = T0) -> DocumentMeta:
    return DocumentMeta(
        id=doc_id or str(uuid.uuid4()),
        direction=Direction.OUTBOUND,
        kind=DocumentKind.INVOICE,
        sender="0088:5790000435975",
        recipient="0088:7300010000001",
        document_type="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1",
        process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        business_id="INV-1",
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        received_at=at,
        origin="acme",
    )


def event(state: State = State.RECEIVED, at: datetime = T0, reason: str = "") -> StatusEvent:
    return StatusEvent(state, at, reason or state.value, {"note": reason or state.value})


def job(document_id: str, *, due: datetime = T0, job_id: str | None = None) -> OutboxJob:
    return OutboxJob(
        id=job_id or str(uuid.uuid4()),
        document_id=document_id,
        created_at=T0 - timedelta(seconds=1),
        next_attempt_at=due,
        attempts=0,
    )


async def put(
    store: DocumentStore, *, due: datetime | None = T0, key: str | None = None
) -> tuple[str, OutboxJob | None]:
    """Accept a fresh document (with a job due at ``due`` unless None)."""
    body = payload()
    m = meta(body)
    j = job(m.id, due=due) if due is not None else None
    result = await store.accept(
        m, body, [event()], idempotency_key=key, fingerprint=m.sha256, job=j
    )
    assert result.created
    return m.id, j


@dataclass
class Backend:
    """Where a test's data lives, and a way to open more stores on it."""

    kind: str
    make: Callable[[], Store]
    opened: list[Store] = field(default_factory=list)

    async def open_store(self) -> Store:
        store = self.make()
        await store.open()
        self.opened.append(store)
        return store
