"""Encodings shared by the store implementations.

Instants are kept as integer microseconds since the Unix epoch: exact (a
float of seconds loses the last microsecond), ordered as numbers in SQLite
indexes and Redis sorted-set scores alike (below 2**53, so a Redis double
holds them exactly), and turned back into timezone-aware UTC datetimes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.model import DocumentMeta, StatusEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(at: datetime) -> int:
    if at.tzinfo is None:
        # .timestamp() would silently read a naive time as local time.
        raise ValueError(f"naive datetime {at.isoformat()} given to the store: pass UTC")
    return (at - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def span_micros(span: timedelta) -> int:
    return span // _MICROSECOND


def dump_meta(meta: DocumentMeta) -> str:
    return _dumps(meta.to_json())


def load_meta(text: str | bytes) -> DocumentMeta:
    return DocumentMeta.from_json(json.loads(text))


def dump_events(events: Sequence[StatusEvent]) -> list[str]:
    return [_dumps(event.to_json()) for event in events]


def load_event(text: str | bytes) -> StatusEvent:
    return StatusEvent.from_json(json.loads(text))


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
