"""A document as a channel receives it (``channels.base.Parcel``), without a
pipeline: for the tests of one channel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from gateway.channels.base import Parcel
from gateway.config.settings import LimitSettings
from gateway.model import Direction
from gateway.service.intake import meta_of
from gateway.validation.facts import extract_facts
from gateway.validation.parse import parse_xml


def parcel_of(body: bytes, *, document_id: str = "", now: datetime | None = None) -> Parcel:
    """``body`` (a UBL invoice or credit note) with the metadata the pipeline
    would have stored for it, as our sender's submission."""
    facts = extract_facts(parse_xml(body, LimitSettings()))
    at = now or datetime.now(UTC)
    doc_id = document_id or str(uuid.uuid4())
    return Parcel(meta_of(doc_id, Direction.OUTBOUND, facts, body, at, origin="test"), body, at)
