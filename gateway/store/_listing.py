"""What both stores keep to list documents by recipient and by sender fast:
one entry per document (who it is for, which sender token sent it, when it
arrived) and its current state, the state of its last status event.

The state is refreshed by every write that appends events (accept,
append_events, finish_job, retry_job), in the same atomic write, through
the helpers named ``relist``/``RELIST`` in each store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.model import (
    Cursor,
    Direction,
    DocumentMeta,
    Listed,
    ListingPage,
    ListingQuery,
    State,
)
from gateway.store._codec import load_meta, to_micros

WIDTH = 20  # digits of a time in a Redis member, sorting as text like the number:
# redis_listing.LIST reads the id from character WIDTH + 2 on (Lua counts from 1)


@dataclass(frozen=True, slots=True)
class Entry:
    """A document as the listing indexes know it."""

    document_id: str
    recipient: str
    origin: str  # the sender token name; "" for inbound documents
    micros: int  # received_at

    @property
    def member(self) -> str:
        """The document in a Redis sorted set ordered by text: (time, id)."""
        return member(self.micros, self.document_id)


def member(micros: int, document_id: str) -> str:
    return f"{micros:0{WIDTH}d}|{document_id}"


def entry_for(meta: DocumentMeta) -> Entry:
    origin = meta.origin if meta.direction is Direction.OUTBOUND else ""
    return Entry(meta.id, meta.recipient, origin, to_micros(meta.received_at))


def entry_from_json(meta_json: str | bytes) -> Entry:
    return entry_for(load_meta(meta_json))


def last_state(events: Sequence[str]) -> str | None:
    """The state of the last of some JSON events; None when there are none."""
    return str(json.loads(events[-1])["state"]) if events else None


def page(rows: list[tuple[int, str, str | bytes, str]], query: ListingQuery) -> ListingPage:
    """A page from rows (micros, id, meta JSON, state) of one or more keys,
    each key's rows newest first and up to ``query.limit + 1`` of them."""
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    shown = rows[: query.limit]
    more = len(rows) > query.limit
    # A document stored without events reads as just received.
    documents = [Listed(load_meta(meta), State(state or "received")) for _, _, meta, state in shown]
    last = shown[-1] if shown else None
    cursor = Cursor(last[0], last[1]).encode() if more and last is not None else None
    return ListingPage(documents, cursor)
