"""The print house's confirmation recorded in either store (issue #11): posted and
returned events once per document and status, only on printed documents; a
returned letter marks the partner's postal address suspect."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.channels.print_status import import_status
from gateway.errors import InputError
from gateway.model import Partner, State, StatusEvent
from gateway.store.base import Store
from tests.store.builders import T0, event, meta, payload

LATER = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
RECIPIENT = "0088:7300010000001"  # the recipient of every builders.meta document


async def _document(store: Store, *, printed: bool = True) -> str:
    body = payload()
    m = meta(body)
    events = [event()]
    if printed:
        events.append(StatusEvent(State.PRINTED, T0, "printed", {"batch": "2025-03-01"}))
    await store.accept(m, body, events)
    return m.id


def _csv(tmp_path: Path, *rows: str, name: str = "confirm.csv") -> Path:
    path = tmp_path / name
    path.write_text("document_id,status,date,reason\n" + "".join(r + "\n" for r in rows))
    return path


async def test_posted_and_returned_are_recorded_once(store: Store, tmp_path: Path) -> None:
    """Each row adds its posted or returned event to the printed document's history, with
    the print house's date and reason; importing the same file again adds nothing."""
    posted, returned = await _document(store), await _document(store)
    await store.put_partners([Partner(RECIPIENT, "Acme", address=("1 Main St", "Oslo"))])
    path = _csv(
        tmp_path,
        f"{posted},posted,2026-12-09,",
        f"{returned},posted,2026-12-09,",
        f"{returned},returned,2026-12-11,addressee unknown",
    )
    report = await import_status(store, path, now=LATER)
    assert (report.rows, report.added, report.known, report.refused) == (3, 3, 0, [])
    history = await store.history(returned)
    assert [e.state for e in history[-2:]] == [State.POSTED, State.RETURNED]
    assert history[-1].reason == "addressee unknown"
    assert history[-1].details == {"date": "2026-12-11", "file": "confirm.csv", "line": 4}

    again = await import_status(store, path, now=LATER)
    assert (again.added, again.known) == (0, 3)
    assert len(await store.history(returned)) == len(history)


async def test_a_returned_letter_marks_the_partners_address_suspect(
    store: Store, tmp_path: Path
) -> None:
    """A returned letter marks its recipient's postal address suspect in the directory,
    saying when and why; the rest of the partner is unchanged."""
    doc = await _document(store)
    partner = Partner(RECIPIENT, "Acme", reception="paper", address=("1 Main St", "Oslo"))
    await store.put_partners([partner])
    report = await import_status(
        store, _csv(tmp_path, f"{doc},returned,2026-12-11,moved away"), now=LATER
    )
    assert report.suspect == [RECIPIENT]
    marked = await store.get_partner(RECIPIENT)
    assert marked is not None
    assert marked.address_suspect == f"letter returned 2026-12-11 (moved away), document {doc}"
    assert (marked.address, marked.reception) == (partner.address, partner.reception)


async def test_bad_rows_are_refused_by_line_and_the_others_recorded(
    store: Store, tmp_path: Path
) -> None:
    """Unknown ids, documents never printed, unknown statuses, bad dates and extra columns
    are each refused with their line number; the good row in between is recorded."""
    good, unprinted = await _document(store), await _document(store, printed=False)
    path = _csv(
        tmp_path,
        "no-such-document,posted,2026-12-09,",
        f"{unprinted},posted,2026-12-09,",
        f"{good},posted,2026-12-09,",
        f"{good},lost,2026-12-09,",
        f"{good},returned,09/12/2026,",
        f"{good},returned,2026-12-09,why,extra",
        ",posted,2026-12-09,",
    )
    report = await import_status(store, path, now=LATER)
    assert report.added == 1
    assert [(r.line, r.reason.split(" ")[0]) for r in report.refused] == [
        (2, "no"),
        (3, "document"),
        (5, "status"),
        (6, "date"),
        (7, "too"),
        (8, "no"),
    ]
    assert "was not printed" in report.refused[1].reason
    assert [e.state for e in await store.history(unprinted)] == [State.RECEIVED]
    assert [e.state for e in await store.history(good)][-1] is State.POSTED


async def test_a_file_without_the_header_is_refused_whole(store: Store, tmp_path: Path) -> None:
    """A file whose first line is not the header is refused as a whole, naming the header
    expected, and nothing is recorded."""
    doc = await _document(store)
    path = tmp_path / "confirm.csv"
    path.write_text(f"{doc},posted,2026-12-09,\n")
    with pytest.raises(InputError, match="header must be document_id,status,date,reason"):
        await import_status(store, path, now=LATER)
    assert [e.state for e in await store.history(doc)][-1] is State.PRINTED
