"""The print channel: a print-ready PDF of each invoice or credit note for a
recipient in no network, added to the day's print batch.

``<root>/<YYYY-MM-DD>/<document id>.pdf``, and one row per document in that
day's ``manifest.csv`` (document_id, recipient, pages, address, file); the batch
id is the date. Once a day's batch is closed (``gateway print close``, see
print_batch), a document printed later goes into the next open day's batch.
A document without a usable postal address is printed all the
same and its manifest row says "no address", so the admin sees it.

Idempotent by document id, across crashes: the PDF is written atomically
(temporary file, fsync, rename) and overwrites an earlier attempt, and the row
is appended only if the manifest has none for that document yet. So a
delivery retried at any point leaves one PDF and one row.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from gateway.channels.atomic import fsync_dir, safe_name, write_atomic
from gateway.channels.files import Delivered
from gateway.channels.print_folder import is_closed, locked
from gateway.channels.render import read_document, recipient_of, render_pdf
from gateway.config.settings import LimitSettings
from gateway.validation.parse import parse_xml

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("document_id", "recipient", "pages", "address", "file")
NO_ADDRESS = "no address"
ADDRESS_SEPARATOR = " / "
_BATCHES_REMEMBERED = 4  # days whose manifest ids stay in memory; older ones are re-read
_DAYS_AHEAD = 366  # how far past closed days the channel looks for an open batch


@dataclass
class _Seen:
    """Document ids already in one manifest, and how far the file was read."""

    offset: int = 0
    ids: set[str] = field(default_factory=set)


class PdfPrintChannel:
    def __init__(self, root: Path, *, limits: LimitSettings | None = None) -> None:
        self.root = root
        self.limits = limits or LimitSettings()
        # Deliveries run in threads; rows are checked and appended one at a time.
        self._lock = threading.Lock()
        self._seen: dict[Path, _Seen] = {}

    async def deliver(
        self,
        recipient: str,
        document_id: str,
        payload: bytes,
        *,
        now: datetime,
        address: tuple[str, ...] = (),
        name: str = "",
    ) -> Delivered:
        """Print ``payload`` (a UBL Invoice or CreditNote) into today's batch.

        ``address`` and ``name``, when given (from the directory), are used for
        the envelope window instead of the buyer's address in the document.
        """
        path = await asyncio.to_thread(
            self._print, recipient, document_id, payload, now, address, name
        )
        return Delivered(location=str(path), batch=path.parent.name)

    def _print(
        self,
        recipient: str,
        document_id: str,
        payload: bytes,
        now: datetime,
        address: tuple[str, ...],
        name: str,
    ) -> Path:
        doc = read_document(parse_xml(payload, self.limits))
        who = recipient_of(doc, name=name, address=address)
        pdf = render_pdf(doc, created=now, recipient=who)
        name_in_batch = f"{safe_name(document_id)}.pdf"
        shown = ADDRESS_SEPARATOR.join(who.lines) if who.has_address else NO_ADDRESS
        row = [document_id, _cell(recipient), str(pdf.pages), _cell(shown), name_in_batch]
        day = now.date()
        for _ in range(_DAYS_AHEAD):
            folder = self.root / day.isoformat()
            with locked(self.root):  # a close cannot happen between the look and the write
                if not is_closed(folder):
                    write_atomic(folder / name_in_batch, pdf.data, make_parents=True)
                    with self._lock:
                        self._append_once(folder / MANIFEST, row)
                    return folder / name_in_batch
                with self._lock:
                    if document_id in self._read_new_rows(folder / MANIFEST).ids:
                        return folder / name_in_batch  # a retry of a document already closed
            day += timedelta(days=1)
        raise RuntimeError(f"no open print batch in the {_DAYS_AHEAD} days after {now.date()}")

    def _append_once(self, manifest: Path, row: list[str]) -> None:
        seen = self._read_new_rows(manifest)
        if row[0] in seen.ids:
            return  # a retried delivery: the PDF was rewritten, the row stays single
        if not manifest.exists():
            _create_with_header(manifest)
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(row)
        with open(manifest, "a", encoding="utf-8", newline="") as fh:
            fh.write(line.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        seen.ids.add(row[0])

    def _read_new_rows(self, manifest: Path) -> _Seen:
        """The ids in ``manifest``, reading only what was appended since the last
        look (another gateway process may share the print folder)."""
        if manifest not in self._seen and len(self._seen) >= _BATCHES_REMEMBERED:
            del self._seen[next(iter(self._seen))]  # the oldest day: done with
        seen = self._seen.setdefault(manifest, _Seen())
        try:
            with open(manifest, "rb") as fh:
                if os.fstat(fh.fileno()).st_size < seen.offset:  # replaced by hand
                    seen.offset, seen.ids = 0, set()
                fh.seek(seen.offset)
                chunk = fh.read()
        except FileNotFoundError:
            seen.offset, seen.ids = 0, set()
            return seen
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a row still being written waits
        rows = csv.reader(io.StringIO(complete.decode("utf-8", "replace")))
        if seen.offset == 0:
            next(rows, None)  # the header
        seen.ids.update(fields[0] for fields in rows if fields)
        seen.offset += len(complete)
        return seen


def _cell(value: str) -> str:
    """Text from outside made safe for a spreadsheet: one line, and no leading
    character that Excel or LibreOffice would run as a formula."""
    value = " ".join(value.split())
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _create_with_header(manifest: Path) -> None:
    """Create the manifest with its header row in one step: a hard link never
    replaces a file, so a manifest another process just started is kept."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(MANIFEST_COLUMNS)
    tmp = manifest.with_name(f".{manifest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(line.getvalue(), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, manifest)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(manifest.parent)
