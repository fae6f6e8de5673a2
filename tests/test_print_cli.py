"""`gateway print close` and `gateway print import-status` as an admin runs them
(issue #11): on a configuration written by `gateway init`, its embedded store and
its print folder, with documents printed by the print channel."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from gateway.channels.printing import PdfPrintChannel
from gateway.model import Partner, State, StatusEvent
from gateway.store.sqlite import SqliteStore
from tests.builders import BUYER, invoice, network_config
from tests.store.builders import event, meta
from tests.support import cli

NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


async def _gateway(tmp_path: Path, *ids: str) -> Path:
    """A gateway whose print house takes ZIPs in a folder, with ``ids`` printed on NOW's day
    (in its print folder and its store) and BUYER in its directory."""
    config = network_config(tmp_path).config
    (config.parent / "handoff").mkdir()
    config.write_text(
        config.read_text() + '\n[print_house]\nhandoff = "folder"\nfolder = "handoff"\n'
    )
    printer = PdfPrintChannel(config.parent / "print")
    store = SqliteStore(config.parent / "store.db")
    await store.open()
    try:
        for doc_id in ids:
            body = invoice(doc_id)
            done = await printer.deliver(str(BUYER), doc_id, body, now=NOW)
            printed = StatusEvent(State.PRINTED, NOW, "printed", {"batch": done.batch})
            m = replace(meta(body, doc_id=doc_id), recipient=str(BUYER))
            await store.accept(m, body, [event(), printed])
        await store.put_partners([Partner(str(BUYER), "Buyer AS", address=("1 Main St",))])
    finally:
        await store.close()
    return config


async def test_print_close_builds_and_hands_off_the_batch_once(tmp_path: Path) -> None:
    """`gateway print close --date` closes the day and copies its ZIP to the print house's
    folder; run again, it says the batch was already closed and handed off."""
    config = await _gateway(tmp_path, "doc-1", "doc-2")
    first = cli("print", "close", "--date", "2026-12-08", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "batch testnet-2026-12-08 closed (2 document(s)" in first.stdout
    handed = config.parent / "handoff" / "testnet-2026-12-08.zip"
    assert f"handed off to {handed}" in first.stdout and handed.is_file()
    again = cli("print", "close", "--date", "2026-12-08", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert "was already closed" in again.stdout and "already handed off" in again.stdout


async def test_print_close_of_an_empty_day_hands_off_nothing(tmp_path: Path) -> None:
    """Closing a day nothing was printed on says so and exits 0, handing off nothing."""
    config = await _gateway(tmp_path)
    done = cli("print", "close", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "no document printed on" in done.stdout
    assert list((config.parent / "handoff").iterdir()) == []


def test_print_close_refuses_a_bad_date(tmp_path: Path) -> None:
    """A --date that is not YYYY-MM-DD is a usage error naming it."""
    done = cli("print", "close", "--date", "8/12/2026", "--config", str(tmp_path / "x.toml"))
    assert done.returncode == 2 and "'8/12/2026' is not a date YYYY-MM-DD" in done.stderr


async def test_import_status_records_and_marks_the_address_suspect(tmp_path: Path) -> None:
    """The print house's CSV records posted and returned letters (the unknown id refused by
    line, exit 1); the returned letter's partner shows a suspect address; a second import
    records nothing twice."""
    config = await _gateway(tmp_path, "doc-1", "doc-2")
    confirm = tmp_path / "confirm.csv"
    confirm.write_text(
        "document_id,status,date,reason\n"
        "doc-1,posted,2026-12-09,\n"
        "doc-9,posted,2026-12-09,\n"
        "doc-2,returned,2026-12-11,moved away\n"
    )
    done = cli("print", "import-status", str(confirm), "--config", str(config))
    assert done.returncode == 1, done.stderr
    assert f"{confirm}:3: no document 'doc-9' in this gateway" in done.stdout
    assert "2 status(es) recorded, 0 already recorded, 1 refused" in done.stdout
    assert f"partner {BUYER}: postal address marked suspect" in done.stdout

    shown = cli("partners", "show", str(BUYER), "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert "address in doubt: letter returned 2026-12-11 (moved away), document doc-2" in (
        shown.stdout
    )
    status = SqliteStore(config.parent / "store.db")
    await status.open()
    try:
        assert [e.state for e in await status.history("doc-2")][-1] is State.RETURNED
    finally:
        await status.close()

    again = cli("print", "import-status", str(confirm), "--config", str(config), "--json")
    assert again.returncode == 1
    assert '"added": 0' in again.stdout and '"already_recorded": 2' in again.stdout


def test_import_status_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A confirmation file that is not there is named, exit 2."""
    done = cli("print", "import-status", str(tmp_path / "none.csv"))
    assert done.returncode == 2 and "none.csv: no such file" in done.stderr
