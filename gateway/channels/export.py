"""The accounting export ("raw data"): an add-on to any reception mode that
puts each document a recipient receives into its ``export_dir``, for an
accounting tool or a spreadsheet to pick up:

* ``<document id>.xml``: the exact UBL bytes, as received;
* ``invoices.jsonl``: one JSON object per document (the header record of
  ``invoice_record``, VAT breakdown included);
* ``invoice-lines.csv``: one row per invoice or credit note line.

Once per document, across retries, crashes and several gateway processes
sharing the folder:

* the XML is written atomically (temporary file, fsync, rename), so a retry
  overwrites it with the same bytes;
* the rows are appended under an exclusive lock on ``.export.lock`` (flock,
  which also excludes the threads of one process), and only when
  ``invoices.jsonl`` has no row for the document yet;
* a document's CSV rows are appended first and its JSON line last, each
  fsync'ed, and then ``.export-state.json`` records how long both files are.
  That record is the commit: whatever lies past it in a file (the rows of an
  export that crashed half way, or half a line) is cut off by the next
  export before it appends, so a reader never keeps a broken last line and
  the crashed document is written whole when its delivery is retried;
* a file that was replaced or shortened by hand (another inode, or shorter
  than recorded) is left as it is, except for a half last line.

A folder that cannot be written gives ``retry`` with the OS's reason; a
document that cannot be read gives ``refused``: nothing raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import fcntl
import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from gateway.channels.atomic import safe_name, write_atomic
from gateway.channels.base import Outcome, Parcel, Recipient
from gateway.channels.invoice_record import LINE_FIELDS, InvoiceRecord, record_of
from gateway.config.settings import LimitSettings
from gateway.errors import InputError

log = structlog.get_logger("gateway.export")

INVOICES = "invoices.jsonl"
LINES = "invoice-lines.csv"
LOCK = ".export.lock"
STATE = ".export-state.json"
# Excel reads a CSV as UTF-8 only when it starts with a byte order mark;
# LibreOffice, pandas and csv readers opened with "utf-8-sig" skip it.
BOM = "\ufeff"

# A plain decimal number, as UBL writes amounts and quantities. Such a cell
# is a number to a spreadsheet, never a formula, even when it starts with "-".
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_FORMULA_STARTS = ("=", "+", "-", "@")
_CHUNK = 64 * 1024


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ gets a
    leading apostrophe, unless it is a plain number such as "-5.00"."""
    if value.startswith(_FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_rows(record: InvoiceRecord) -> str:
    """The CSV rows of ``record``'s lines: one physical line per row, since
    every value is one line. (The header row is ``LINE_FIELDS`` joined by
    commas: no name needs quoting.)"""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for line in record.lines:
        writer.writerow([safe_cell(line[name]) for name in LINE_FIELDS])
    return out.getvalue()


def json_line(record: InvoiceRecord) -> str:
    """The JSON line of ``record``'s header (UTF-8, not ASCII-escaped: the
    values hold no line break of any kind)."""
    return json.dumps(record.header, ensure_ascii=False) + "\n"


@dataclass
class _Known:
    """The document ids already in one ``invoices.jsonl``, and how far it was read."""

    inode: int = -1
    offset: int = 0
    ids: set[str] = field(default_factory=set)


class AccountingExport:
    def __init__(self, *, limits: LimitSettings | None = None) -> None:
        self.limits = limits or LimitSettings()
        self._known: dict[Path, _Known] = {}  # read under the folder's flock

    async def export(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        """Export ``parcel`` into ``recipient.export_dir``."""
        folder = recipient.export_dir
        if folder is None:
            return Outcome.refused(f"{recipient.id} has no export folder (export_dir)")
        try:
            return await asyncio.to_thread(self._export, parcel, folder)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            log.warning("export.failed", document_id=parcel.meta.id, reason=reason)
            return Outcome.retry(
                f"export folder {folder} cannot be written: {reason}", {"export_dir": str(folder)}
            )

    def _export(self, parcel: Parcel, folder: Path) -> Outcome:
        doc_id = parcel.meta.id
        try:
            name = f"{safe_name(doc_id)}.xml"
            record = record_of(
                parcel.payload,
                self.limits,
                document_id=doc_id,
                received_at=parcel.meta.received_at,
            )
        except (InputError, ValueError) as exc:
            return Outcome.refused(f"document cannot be exported: {exc}")
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / name, parcel.payload)
        with _locked(folder):
            added = self._append_once(folder, record)
        details = {"export_dir": str(folder), "files": [name, INVOICES, LINES]}
        if added:
            log.info("export.written", document_id=doc_id, lines=len(record.lines))
            return Outcome.delivered(f"exported to {folder}", details)
        return Outcome.delivered(f"already exported to {folder}", details)

    def _append_once(self, folder: Path, record: InvoiceRecord) -> bool:
        """Append the record's rows unless ``invoices.jsonl`` has them; under the lock."""
        jsonl, lines = folder / INVOICES, folder / LINES
        state = _read_state(folder / STATE)
        for path in (jsonl, lines):
            _recover(path, state.get(path.name))
        known = self._read_ids(jsonl)
        doc_id = str(record.header["document_id"])
        if doc_id in known.ids:
            return False  # a retried delivery: the XML was rewritten, the rows stay single
        if not lines.exists() or lines.stat().st_size == 0:
            _append(lines, BOM + ",".join(LINE_FIELDS) + "\n")
        jsonl.touch()
        # Files just created (or replaced by hand) get their starting point
        # recorded first, so that a crash in the appends below is undone too.
        before = {p.name: _mark(p) for p in (jsonl, lines)}
        if before != state:
            _write_state(folder / STATE, before)
        _append(lines, csv_rows(record))
        _append(jsonl, json_line(record))
        _write_state(folder / STATE, {p.name: _mark(p) for p in (jsonl, lines)})
        known.ids.add(doc_id)
        known.offset = jsonl.stat().st_size
        return True

    def _read_ids(self, jsonl: Path) -> _Known:
        """The ids in ``jsonl``, reading only what was appended since the last
        look (another gateway process may share the folder)."""
        known = self._known.setdefault(jsonl, _Known())
        try:
            with open(jsonl, "rb") as fh:
                st = os.fstat(fh.fileno())
                if st.st_ino != known.inode or st.st_size < known.offset:  # replaced by hand
                    known.inode, known.offset, known.ids = st.st_ino, 0, set()
                fh.seek(known.offset)
                for raw in fh:  # line by line: the file may be large
                    if not raw.endswith(b"\n"):
                        break  # no half line is left after recovery; be safe all the same
                    known.offset += len(raw)
                    with contextlib.suppress(ValueError, AttributeError):
                        known.ids.add(str(json.loads(raw).get("document_id", "")))
        except FileNotFoundError:
            known.inode, known.offset, known.ids = -1, 0, set()
        return known


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the folder's export lock: one appender at a time, in every process."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock, as does a crash


def _recover(path: Path, mark: Sequence[int] | None) -> None:
    """Cut off what an interrupted export left past the last commit."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if mark is not None and st.st_ino == mark[0] and st.st_size > mark[1]:
        os.truncate(path, mark[1])
        log.warning("export.recovered", file=path.name, removed_bytes=st.st_size - mark[1])
        return
    end = _last_newline_end(path, st.st_size)
    if end < st.st_size:
        os.truncate(path, end)
        log.warning("export.recovered", file=path.name, removed_bytes=st.st_size - end)


def _last_newline_end(path: Path, size: int) -> int:
    """The length of ``path`` up to and including its last newline (0 if none)."""
    with open(path, "rb") as fh:
        at = size
        while at > 0:
            start = max(0, at - _CHUNK)
            fh.seek(start)
            found = fh.read(at - start).rfind(b"\n")
            if found != -1:
                return start + found + 1
            at = start
    return 0


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _mark(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_ino, st.st_size)


def _read_state(path: Path) -> dict[str, tuple[int, int]]:
    """The committed (inode, size) of each file; {} when unknown or unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): (int(v[0]), int(v[1])) for k, v in raw.items()}
    except FileNotFoundError:
        return {}
    except (ValueError, TypeError, IndexError, AttributeError):
        log.warning("export.state_unreadable", file=path.name)
        return {}


def _write_state(path: Path, state: dict[str, tuple[int, int]]) -> None:
    write_atomic(path, json.dumps(state).encode())
