"""Closing a day's print batch: what the print house receives.

``close_batch`` turns ``<print_dir>/<YYYY-MM-DD>`` into three files named
with the network and the date (``<network>-<date>``):

* ``<network>-<date>.pdf``: every document of the day, in manifest order;
* ``<network>-<date>-manifest.csv``: the day's manifest with the first and
  last page of each document in that PDF (what the print house cuts on);
* ``<network>-<date>.zip``: both, and a ``README.txt`` saying what they are.

The ``closed`` marker is written first, under the print folder's lock, so a
document printed from then on goes to the next day's batch and the files
describe a batch that no longer changes. Closing again builds nothing new:
the files already there are the batch (a close cut short is finished).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from gateway.channels.atomic import write_atomic
from gateway.channels.print_folder import CLOSED, HANDED_OFF, is_closed, locked, write_marker
from gateway.channels.printing import MANIFEST, MANIFEST_COLUMNS
from gateway.errors import GatewayError

BATCH_COLUMNS = (*MANIFEST_COLUMNS, "first_page", "last_page")
README = "README.txt"


class BatchError(GatewayError):
    """A batch that cannot be closed as it stands (a PDF missing, a bad manifest)."""

    code = "print_batch_invalid"


@dataclass(frozen=True)
class Batch:
    day: date
    folder: Path
    name: str  # <network>-<date>: the stem of the three files
    documents: int
    pages: int
    already_closed: bool  # closed before this call: nothing was built now

    @property
    def zip(self) -> Path:
        return self.folder / f"{self.name}.zip"

    @property
    def handed_off(self) -> str:
        """Where the batch was handed off ("" if not yet)."""
        marker = self.folder / HANDED_OFF
        return marker.read_text(encoding="utf-8").strip() if marker.exists() else ""


def batch_name(network: str, day: date) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in network.strip()) or "gateway"
    return f"{safe}-{day.isoformat()}"


def close_batch(root: Path, day: date, *, network: str, now: datetime) -> Batch | None:
    """Close ``day``'s batch under ``root`` (the print folder) and build its
    files; ``None`` when the day has no document (nothing is closed then)."""
    folder = root / day.isoformat()
    name = batch_name(network, day)
    if not (folder / MANIFEST).exists():
        return None
    with locked(root):
        already = is_closed(folder) and (folder / f"{name}.zip").exists()
        rows = _manifest_rows(folder / MANIFEST)
        if not rows:
            return None
        if not is_closed(folder):
            write_marker(folder, CLOSED, f"closed at {now.isoformat()}\n")
    if already:
        pages = sum(int(r["pages"]) for r in rows)
        return Batch(day, folder, name, len(rows), pages, already_closed=True)
    pages = _build(folder, name, rows, day)
    return Batch(day, folder, name, len(rows), pages, already_closed=False)


def _manifest_rows(manifest: Path) -> list[dict[str, str]]:
    text = manifest.read_text(encoding="utf-8")
    text = text[: text.rfind("\n") + 1]  # a row still being written is not part of it
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
        raise BatchError(f"{manifest}: the header is not {','.join(MANIFEST_COLUMNS)}")
    rows = []
    for line, row in enumerate(reader, start=2):
        if not row.get("file") or not (row.get("pages") or "").isdigit():
            raise BatchError(f"{manifest}:{line}: a row without its file or page count")
        rows.append(row)
    return rows


def _build(folder: Path, name: str, rows: list[dict[str, str]], day: date) -> int:
    """Write the merged PDF, the batch manifest and the ZIP; return the pages."""
    writer = PdfWriter()
    table = io.StringIO()
    out = csv.writer(table, lineterminator="\n")
    out.writerow(BATCH_COLUMNS)
    page = 0
    for row in rows:
        pdf = folder / row["file"]
        if not pdf.is_file():
            raise BatchError(f"{pdf}: the PDF of document {row['document_id']} is missing")
        reader = PdfReader(pdf)
        for each in reader.pages:
            writer.add_page(each)
        count = len(reader.pages)
        out.writerow([*(row[c] for c in MANIFEST_COLUMNS), page + 1, page + count])
        page += count
    merged = io.BytesIO()
    writer.write(merged)
    stamp = (day.year, day.month, day.day, 0, 0, 0)  # the same bytes when built again
    parts = {
        f"{name}.pdf": merged.getvalue(),
        f"{name}-manifest.csv": table.getvalue().encode("utf-8"),
        README: _readme(name, len(rows), page).encode("utf-8"),
    }
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            z.writestr(zipfile.ZipInfo(part, stamp), data, zipfile.ZIP_DEFLATED)
    for part in (f"{name}.pdf", f"{name}-manifest.csv"):
        write_atomic(folder / part, parts[part])
    write_atomic(folder / f"{name}.zip", zipped.getvalue())  # last: its presence means "built"
    return page


def _readme(name: str, documents: int, pages: int) -> str:
    return (
        f"Print batch {name}: {documents} document(s), {pages} page(s).\n\n"
        f"{name}.pdf holds every document, one after the other, in the order of\n"
        f"{name}-manifest.csv. Each manifest row gives the document id, the recipient,\n"
        "its page count, the postal address printed in the envelope window\n"
        '("no address" when there is none: do not post that letter), its own PDF\n'
        "file name, and its first and last page in the merged PDF.\n\n"
        "Please confirm with a CSV of document_id,status,date,reason rows\n"
        "(status posted or returned, date YYYY-MM-DD).\n"
    )


def open_days(root: Path, *, until: date, since: date) -> list[date]:
    """Days in ``[since, until]`` with a manifest and no hand-off yet, oldest first:
    what an automatic close still has to do (a failed hand-off, a missed day)."""
    days = []
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        pending = (folder / MANIFEST).exists() and not (folder / HANDED_OFF).exists()
        if since <= day <= until and pending:
            days.append(day)
    return sorted(days)
