"""What the admin view reads: the newest documents with their current state,
the print batches on disk, and the month's traffic with each peer network.

The store keeps no global count by state, so the view reads the newest
documents (at most ``SCAN_LIMIT``) and their last event, and says so on the
page when there are more: an admin's look, not a report (`gateway
settlement` and the metrics are those).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from gateway.channels.print_folder import CLOSED, HANDED_OFF
from gateway.channels.printing import MANIFEST
from gateway.config.settings import Settings
from gateway.model import DocumentMeta, State
from gateway.portal.context import PortalData
from gateway.routing.settlement import settlement
from gateway.store.base import LedgerStore, Outbox

SCAN_LIMIT = 2000  # newest documents read for the counts and lists
_READ = 200  # documents per store read
MAX_BATCHES = 90  # days of print batches shown
WAYS = ("send", "receive")


class AdminData(PortalData, Outbox, LedgerStore, Protocol):
    """What the admin view reads and writes (a dead letter's new job)."""


@dataclass(frozen=True)
class Seen:
    """A document as the admin lists it: its metadata and its last event."""

    meta: DocumentMeta
    state: State
    reason: str


@dataclass(frozen=True)
class Survey:
    documents: list[Seen]  # newest first
    total: int  # documents in the store

    @property
    def complete(self) -> bool:
        return len(self.documents) >= self.total

    def counts(self) -> list[tuple[str, int]]:
        """Every state (in the order of the life of a document) and its count."""
        found = Counter(seen.state for seen in self.documents)
        return [(s.value, found.get(s, 0)) for s in State]

    def in_states(self, states: frozenset[State]) -> list[Seen]:
        return [seen for seen in self.documents if seen.state in states]


async def _seen(store: AdminData, meta: DocumentMeta) -> Seen:
    history = await store.history(meta.id)
    if not history:
        return Seen(meta, State.RECEIVED, "")
    return Seen(meta, history[-1].state, history[-1].reason)


async def survey(store: AdminData, *, limit: int = SCAN_LIMIT) -> Survey:
    """The newest ``limit`` documents with their current state."""
    total = await store.count_documents()
    seen: list[Seen] = []
    while len(seen) < min(limit, total):
        page = await store.list_documents(limit=min(_READ, limit - len(seen)), offset=len(seen))
        if not page:
            break
        seen.extend(await asyncio.gather(*(_seen(store, meta) for meta in page)))
    return Survey(seen, total)


@dataclass(frozen=True)
class BatchRow:
    day: str
    documents: int
    pages: int
    closed: bool
    handed_off: str  # where it went ("" not yet)


def _manifest(folder: Path) -> tuple[int, int]:
    """Documents and pages in a day's manifest (a row still being written left out)."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return 0, 0
    text = text[: text.rfind("\n") + 1]
    rows = list(csv.DictReader(io.StringIO(text)))
    pages = sum(int(r["pages"]) for r in rows if (r.get("pages") or "").isdigit())
    return len(rows), pages


def batches(root: Path, *, limit: int = MAX_BATCHES) -> list[BatchRow]:
    """The day folders under the print folder, newest first."""
    days = []
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir():
            days.append(folder)
    out = []
    for folder in sorted(days, key=lambda f: f.name, reverse=True)[:limit]:
        documents, pages = _manifest(folder)
        marker = folder / HANDED_OFF
        handed = marker.read_text(encoding="utf-8").strip() if marker.exists() else ""
        out.append(
            BatchRow(folder.name, documents, pages, (folder / CLOSED).exists(), handed[:200])
        )
    return out


@dataclass(frozen=True)
class TrafficRow:
    peer: str
    agreement: str
    sent: int
    received: int
    fees: str  # "0.70 EUR for sent, ..." or ""
    balance: str


async def traffic(store: AdminData, settings: Settings, month: str) -> list[TrafficRow]:
    """Per peer network and agreement: the month's documents each way, the
    fees and the balance, as `gateway settlement` reckons them."""
    rows: list[dict[str, Any]] = settlement(settings, month, await store.exchanges(month))
    out = []
    for r in rows:
        counts = {w: sum(d["count"] for d in r["documents"] if d["way"] == w) for w in WAYS}
        fees = ", ".join(f"{f['way']}: {f['amount']} {r['currency']}" for f in r["fees"])
        out.append(
            TrafficRow(
                r["peer"],
                r["agreement"],
                counts["send"],
                counts["receive"],
                fees,
                r.get("balance") or r.get("note", ""),
            )
        )
    return out
