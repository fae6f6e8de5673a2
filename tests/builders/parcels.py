"""A document as a channel receives it (``channels.base.Parcel``), without a
pipeline: for the tests of one channel."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from gateway.channels.base import Parcel
from gateway.config.settings import LimitSettings
from gateway.model import Direction, DocumentMeta
from gateway.validation.facts import extract_facts
from gateway.validation.parse import parse_xml


def parcel_of(body: bytes, *, document_id: str = "", now: datetime | None = None) -> Parcel:
    """``body`` (a UBL invoice or credit note) with the metadata the pipeline
    would have stored for it."""
    f = extract_facts(parse_xml(body, LimitSettings()))
    at = now or datetime.now(UTC)
    meta = DocumentMeta(
        id=document_id or str(uuid.uuid4()),
        direction=Direction.OUTBOUND,
        kind=f.kind,
        sender=str(f.seller or ""),
        recipient=str(f.buyer or ""),
        document_type=f.document_type,
        process=f.process,
        business_id=f.business_id,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        received_at=at,
        buyer_name=f.buyer_name,
        seller_name=f.seller_name,
        issue_date=f.issue_date.isoformat() if f.issue_date else "",
        due_date=f.due_date.isoformat() if f.due_date else "",
        currency=f.currency,
        payable_amount=f.payable_amount,
    )
    return Parcel(meta, body, at)
