"""The print house's confirmation: which letters were posted, which came back.

The print house sends a CSV (UTF-8, comma-separated, header row required)::

    document_id,status,date,reason
    6f1c...,posted,2026-12-08,
    9a2e...,returned,2026-12-11,addressee unknown

``status`` is ``posted`` or ``returned``; ``date`` (YYYY-MM-DD) is when the
print house posted it or got it back; ``reason`` is optional. Each good row
adds one ``posted`` or ``returned`` event to the document's history, once per
document and status: importing the same file again adds nothing. Only
documents the gateway printed take one. A bad row (unknown id, not printed,
unknown status, bad date) is reported with its line number and the other
rows are imported all the same: each row is about one letter, independent of
the others, and holding back the good news of a thousand letters because of
one typo would only delay it. A returned letter also marks the recipient's
postal address as suspect in the partner directory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from gateway.errors import InputError
from gateway.model import Partner, State, StatusEvent
from gateway.model.documents import DocumentMeta

COLUMNS = ("document_id", "status", "date", "reason")
STATUSES = {"posted": State.POSTED, "returned": State.RETURNED}
MAX_BYTES = 64 * 1024 * 1024


class StatusStore(Protocol):
    """What an import needs of the store (documents and partners)."""

    async def get_meta(self, document_id: str) -> DocumentMeta | None: ...
    async def history(self, document_id: str) -> list[StatusEvent]: ...
    async def append_events(self, document_id: str, events: Sequence[StatusEvent]) -> None: ...
    async def get_partner(self, pid: str) -> Partner | None: ...
    async def put_partners(self, partners: Sequence[Partner]) -> None: ...


@dataclass(frozen=True)
class Refused:
    line: int
    reason: str


@dataclass
class StatusReport:
    file: str
    rows: int = 0
    added: int = 0  # events appended now
    known: int = 0  # rows whose event was already in the history
    refused: list[Refused] = field(default_factory=list)
    suspect: list[str] = field(default_factory=list)  # partners whose address became suspect

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "rows": self.rows,
            "added": self.added,
            "already_recorded": self.known,
            "refused": [{"line": r.line, "reason": r.reason} for r in self.refused],
            "address_suspect": self.suspect,
        }


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The file's rows with their line numbers; InputError if it is no confirmation CSV."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if header not in (list(COLUMNS), list(COLUMNS[:3])):
        raise InputError(
            f"{path}:1: the header must be {','.join(COLUMNS)} (reason may be left out);"
            f" got {','.join(header) or 'an empty file'}"
        )
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue  # a blank line
        if len(values) > len(COLUMNS):
            rows.append((reader.line_num, {"": "too many columns"}))
            continue
        cells = (v.strip() for v in values)
        rows.append((reader.line_num, dict(zip(COLUMNS, cells, strict=False))))
    return rows


async def import_status(store: StatusStore, path: Path, *, now: datetime) -> StatusReport:
    """Record the print house's confirmations in ``path``; see the module docstring."""
    report = StatusReport(file=str(path))
    for line, row in read_rows(path):
        report.rows += 1
        problem = await _import_row(store, row, path.name, line, now, report)
        if problem:
            report.refused.append(Refused(line, problem))
    return report


async def _import_row(
    store: StatusStore,
    row: dict[str, str],
    file: str,
    line: int,
    now: datetime,
    report: StatusReport,
) -> str:
    """Import one row; return why it was refused ("" if it was not)."""
    if "" in row:
        return row[""]
    doc_id, status, day = row.get("document_id", ""), row.get("status", ""), row.get("date", "")
    if not doc_id:
        return "no document_id"
    state = STATUSES.get(status.lower())
    if state is None:
        return f"status {status!r} is not posted or returned"
    try:
        when = date.fromisoformat(day)
        if len(day) != 10:
            raise ValueError
    except ValueError:
        return f"date {day!r} is not YYYY-MM-DD"
    meta = await store.get_meta(doc_id)
    if meta is None:
        return f"no document {doc_id!r} in this gateway"
    history = await store.history(doc_id)
    if not any(e.state is State.PRINTED for e in history):
        return f"document {doc_id} was not printed: its history has no printed event"
    if any(e.state is state for e in history):
        report.known += 1
        return ""
    reason = row.get("reason", "")
    details = {"date": when.isoformat(), "file": file, "line": line}
    await store.append_events(doc_id, [StatusEvent(state, now, reason, details)])
    report.added += 1
    if state is State.RETURNED:
        await _mark_suspect(store, meta.recipient, doc_id, when, reason, report)
    return ""


async def _mark_suspect(
    store: StatusStore, pid: str, doc_id: str, when: date, reason: str, report: StatusReport
) -> None:
    partner = await store.get_partner(pid)
    if partner is None:  # printed with the address in the document: nothing to mark
        return
    note = f"letter returned {when.isoformat()}" + (f" ({reason})" if reason else "")
    await store.put_partners([replace(partner, address_suspect=f"{note}, document {doc_id}")])
    report.suspect.append(pid)
