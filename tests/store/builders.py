"""Small factories for store tests: documents, events and jobs at fixed times."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from gateway.model import (
    Direction,
    DocumentKind,
    DocumentMeta,
    OutboxJob,
    State,
    StatusEvent,
)

# Microseconds on purpose: the stores must give back exactly what they got.
T0 = datetime(2025, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)


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
