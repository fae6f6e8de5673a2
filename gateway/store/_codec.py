"""Encodings shared by the store implementations.

Instants are kept as integer microseconds since the Unix epoch: exact (a
float of seconds loses the last microsecond), ordered as numbers in SQLite
indexes and Redis sorted-set scores alike (below 2**53, so a Redis double
holds them exactly), and turned back into timezone-aware UTC datetimes.

Partners are written a million at a time, so their encoding avoids JSON in
the common case: fields joined by a unit separator, the values of a
multi-valued field by a record separator. Text that holds either control
character (or would be read back differently) falls back to JSON behind a
marker, so every Partner round-trips.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.model import DocumentMeta, Partner, StatusEvent

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


def expiry_micros(now: datetime, ttl_seconds: float) -> int:
    """When a cache entry written at ``now`` expires, in epoch microseconds."""
    if not math.isfinite(ttl_seconds) or ttl_seconds <= 0:
        raise ValueError(f"ttl_seconds must be a positive number, not {ttl_seconds!r}")
    return to_micros(now) + max(1, round(ttl_seconds * 1_000_000))


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


# --- partners -----------------------------------------------------------------

_FIELD = "\x1f"  # ASCII unit separator: between the fields of a record
_VALUE = "\x1e"  # ASCII record separator: between the values of one field
_JSON = "\x02"  # leads text kept as JSON because the fast form would be ambiguous
_RECORD_FIELDS = 8  # a partner record without its id (7 before address_suspect)


def dump_values(values: tuple[str, ...]) -> str:
    if not values:
        return ""
    joined = _VALUE.join(values)
    plain = (
        joined.count(_VALUE) == len(values) - 1
        and _FIELD not in joined
        and not joined.startswith(_JSON)
        and "" not in values  # ("",) would read back as ()
    )
    return joined if plain else _JSON + json.dumps(list(values))


def load_values(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    if text.startswith(_JSON):
        return tuple(json.loads(text[1:]))
    return tuple(text.split(_VALUE))


def partner_row(p: Partner) -> tuple[str, str, str, str, str, str, str, str, str]:
    """The partner as a row of text columns (SQLite), id first."""
    return (
        p.id,
        p.name,
        p.network,
        dump_values(p.document_types),
        p.reception,
        p.email,
        dump_values(p.address),
        p.country,
        p.address_suspect,
    )


def partner_from_row(row: tuple[Any, ...]) -> Partner:
    if len(row) == _RECORD_FIELDS:  # id + 7 fields: written before address_suspect
        row = (*row, "")
    pid, name, network, doctypes, reception, email, address, country, suspect = row
    return Partner(
        pid,
        name,
        network,
        load_values(doctypes),
        reception,
        email,
        load_values(address),
        country,
        suspect,
    )


def dump_partner(p: Partner) -> str:
    """The partner without its id as one string (a Redis hash value)."""
    record = _FIELD.join(partner_row(p)[1:])
    if record.count(_FIELD) == _RECORD_FIELDS - 1 and not record.startswith(_JSON):
        return record
    data = p.to_json()
    del data["id"]
    return _JSON + _dumps(data)


def load_partner(pid: str, text: str) -> Partner:
    if text.startswith(_JSON):
        data = json.loads(text[1:])
        return Partner(
            id=pid,
            name=data["name"],
            network=data["network"],
            document_types=tuple(data["document_types"]),
            reception=data["reception"],
            email=data["email"],
            address=tuple(data["address"]),
            country=data["country"],
            address_suspect=data.get("address_suspect", ""),
        )
    return partner_from_row((pid, *text.split(_FIELD)))
