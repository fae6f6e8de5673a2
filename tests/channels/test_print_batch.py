"""Closing a day's print batch (issue #11): one merged PDF in manifest order,
the manifest with each document's pages in it, one ZIP; idempotent; later
documents go to the next day; the folder hand-off."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from gateway.channels.print_batch import BATCH_COLUMNS, BatchError, close_batch
from gateway.channels.print_cycle import close_and_hand_off
from gateway.channels.print_folder import CLOSED, HANDED_OFF
from gateway.channels.print_handoff import HandoffError
from gateway.channels.printing import MANIFEST, PdfPrintChannel
from gateway.config.print_house import PrintHouseSettings
from tests.builders import BUYER, credit_note, invoice

NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
DAY = NOW.date()


async def _print(root: Path, *ids: str, now: datetime = NOW) -> list[str]:
    channel = PdfPrintChannel(root)
    batches = []
    for i, doc_id in enumerate(ids):
        body = credit_note(f"CN-{i}") if i % 2 else invoice(f"INV-{i}")
        batches.append((await channel.deliver(str(BUYER), doc_id, body, now=now)).batch)
    return batches


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_close_merges_the_days_documents_in_order_with_their_page_ranges(
    tmp_path: Path,
) -> None:
    """Closing a day gives <network>-<date>.pdf with every document in manifest order, a
    manifest giving each one's first and last page in it, and a ZIP holding both and a README."""
    await _print(tmp_path, "doc-b", "doc-a", "doc-c")
    batch = close_batch(tmp_path, DAY, network="alpha", now=NOW)
    assert batch is not None and batch.name == "alpha-2026-12-08"
    assert (batch.documents, batch.already_closed) == (3, False)
    folder = tmp_path / "2026-12-08"
    merged = PdfReader(folder / "alpha-2026-12-08.pdf")
    rows = _rows((folder / "alpha-2026-12-08-manifest.csv").read_text())
    assert tuple(rows[0]) == BATCH_COLUMNS
    assert [r["document_id"] for r in rows] == ["doc-b", "doc-a", "doc-c"]
    page = 1
    for row in rows:  # contiguous ranges, each the size of the document's own PDF
        own = PdfReader(folder / row["file"])
        assert (int(row["first_page"]), int(row["last_page"])) == (page, page + len(own.pages) - 1)
        assert merged.pages[page - 1].extract_text() == own.pages[0].extract_text()
        page += len(own.pages)
    assert len(merged.pages) == page - 1 == batch.pages
    with zipfile.ZipFile(batch.zip) as z:
        assert sorted(z.namelist()) == [
            "README.txt",
            "alpha-2026-12-08-manifest.csv",
            "alpha-2026-12-08.pdf",
        ]
        assert z.read("alpha-2026-12-08.pdf") == (folder / "alpha-2026-12-08.pdf").read_bytes()
        assert "3 document(s)" in z.read("README.txt").decode()


async def test_closing_again_builds_nothing_new_and_says_it_was_closed(tmp_path: Path) -> None:
    """A second close of the same day leaves the same files, byte for byte, and reports the
    batch as already closed."""
    await _print(tmp_path, "doc-1", "doc-2")
    first = close_batch(tmp_path, DAY, network="alpha", now=NOW)
    assert first is not None
    before = {p.name: p.read_bytes() for p in first.folder.iterdir()}
    again = close_batch(tmp_path, DAY, network="alpha", now=NOW)
    assert again is not None and again.already_closed
    assert (again.documents, again.pages, again.zip) == (first.documents, first.pages, first.zip)
    assert {p.name: p.read_bytes() for p in first.folder.iterdir()} == before


async def test_a_close_cut_short_is_finished_by_the_next_close(tmp_path: Path) -> None:
    """A batch marked closed whose ZIP was never written (the close was killed) is built by
    the next close, not reported as done."""
    await _print(tmp_path, "doc-1")
    first = close_batch(tmp_path, DAY, network="alpha", now=NOW)
    assert first is not None
    first.zip.unlink()
    again = close_batch(tmp_path, DAY, network="alpha", now=NOW)
    assert again is not None and not again.already_closed and again.zip.is_file()


async def test_a_document_printed_after_the_close_goes_to_the_next_days_batch(
    tmp_path: Path,
) -> None:
    """Once a day is closed, a new document printed that day lands in the next day's batch and
    the closed manifest keeps its rows; a retry of a document already closed is not printed
    again."""
    await _print(tmp_path, "early")
    assert close_batch(tmp_path, DAY, network="alpha", now=NOW) is not None
    closed_manifest = (tmp_path / "2026-12-08" / MANIFEST).read_text()
    assert await _print(tmp_path, "late", "early") == ["2026-12-09", "2026-12-08"]
    assert (tmp_path / "2026-12-08" / MANIFEST).read_text() == closed_manifest
    assert [r["document_id"] for r in _rows((tmp_path / "2026-12-09" / MANIFEST).read_text())] == [
        "late"
    ]
    assert not (tmp_path / "2026-12-09" / "early.pdf").exists()
    later = close_batch(tmp_path, date(2026, 12, 9), network="alpha", now=NOW)
    assert later is not None and later.documents == 1


def test_a_day_without_documents_closes_nothing(tmp_path: Path) -> None:
    """Closing a day nothing was printed on hands back nothing and creates no folder, so a
    document printed later that day still goes into it."""
    assert close_batch(tmp_path, DAY, network="alpha", now=NOW) is None
    assert not (tmp_path / "2026-12-08").exists()


async def test_a_missing_pdf_is_named_and_no_zip_is_built(tmp_path: Path) -> None:
    """A document's PDF removed by hand stops the close with an error naming the document; no
    ZIP is built, so nothing incomplete can be handed off."""
    await _print(tmp_path, "doc-1", "doc-2")
    (tmp_path / "2026-12-08" / "doc-2.pdf").unlink()
    with pytest.raises(BatchError, match="document doc-2 is missing"):
        close_batch(tmp_path, DAY, network="alpha", now=NOW)
    assert not list((tmp_path / "2026-12-08").glob("*.zip"))


async def test_folder_hand_off_copies_the_zip_once(tmp_path: Path) -> None:
    """With handoff = "folder" the ZIP is copied into the print house's folder (no partial file
    left) and the batch is recorded as handed off; closing again does not copy it again."""
    out = tmp_path / "outbox"
    out.mkdir()
    house = PrintHouseSettings(handoff="folder", folder=out)
    await _print(tmp_path / "print", "doc-1")
    done = await close_and_hand_off(tmp_path / "print", DAY, network="alpha", house=house, now=NOW)
    assert done.batch is not None
    assert done.handed_off_to == str(out / "alpha-2026-12-08.zip")
    assert [p.name for p in out.iterdir()] == ["alpha-2026-12-08.zip"]
    assert (out / "alpha-2026-12-08.zip").read_bytes() == done.batch.zip.read_bytes()
    (out / "alpha-2026-12-08.zip").unlink()  # the print house took it
    again = await close_and_hand_off(tmp_path / "print", DAY, network="alpha", house=house, now=NOW)
    assert again.handed_off_to == "" and again.handed_off_before.startswith(str(out))
    assert list(out.iterdir()) == []


async def test_a_failed_folder_hand_off_keeps_the_batch_for_the_next_try(tmp_path: Path) -> None:
    """When the hand-off folder is gone the error names it; the batch stays closed and not
    handed off, and the next close hands it off once the folder is back."""
    out = tmp_path / "outbox"
    house = PrintHouseSettings(handoff="folder", folder=out)
    root = tmp_path / "print"
    await _print(root, "doc-1")
    with pytest.raises(HandoffError, match=str(out)):
        await close_and_hand_off(root, DAY, network="alpha", house=house, now=NOW)
    assert (root / "2026-12-08" / CLOSED).exists()
    assert not (root / "2026-12-08" / HANDED_OFF).exists()
    out.mkdir()
    done = await close_and_hand_off(root, DAY, network="alpha", house=house, now=NOW)
    assert done.handed_off_to and (out / "alpha-2026-12-08.zip").is_file()
