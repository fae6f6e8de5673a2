"""The built-in reception channels through the real pipeline: the network
inbox folder, the inbox (api/portal) and paper with the directory's postal
address."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

from gateway.channels.base import Recipient, Verdict
from gateway.channels.files import NetworkFolderChannel
from gateway.channels.inbox import InboxChannel
from gateway.channels.printing import MANIFEST
from gateway.model import Partner
from tests.builders import (
    BUYER,
    STRANGER,
    invoice,
    parcel_of,
    serve_api,
    set_delivery,
    set_participant,
)


async def test_paper_uses_the_directorys_postal_address_when_it_has_one(
    network_dir: tuple[Path, str],
) -> None:
    """A company in no network that the directory knows with a postal address gets its paper
    invoice addressed there (name and lines from the directory), not to the invoice's address;
    the document ends `printed` with its batch."""
    cfg, token = network_dir
    set_delivery(cfg, poll_seconds=0.02)
    # No mandate: paper is allowed for this domestic flow.
    text = cfg.read_text()
    cfg.write_text(text[: text.index("[[mandates]]")] + text[text.index("[channels]") :])
    directory_address = ("Service comptable", "12 avenue du Port", "13002 Marseille")
    async with serve_api(cfg, token) as api:
        await api.gw.store.put_partners(
            [
                Partner(
                    str(STRANGER),
                    "Port Supplies SARL",
                    reception="paper",
                    address=directory_address,
                )
            ]
        )
        status = await api.send_and_wait(invoice("PAPER-1", buyer=STRANGER))
    assert status["status"] == "printed", status["history"]
    event = status["history"][-1]
    assert event["details"]["channel"] == "paper"
    manifest = Path(event["details"]["location"]).parent / MANIFEST
    rows = list(csv.DictReader(manifest.read_text(encoding="utf-8").splitlines()))
    assert rows[0]["address"] == " / ".join(("Port Supplies SARL", *directory_address))


async def test_network_reception_writes_the_participants_inbox_folder(
    network_dir: tuple[Path, str],
) -> None:
    """Reception `network` leaves the exact submitted bytes in the participant's inbox folder,
    and the history names that file."""
    cfg, token = network_dir
    set_delivery(cfg, poll_seconds=0.02)
    body = invoice("NET-1")
    async with serve_api(cfg, token) as api:
        status = await api.send_and_wait(body)
        inbox = api.gw.settings.channels.inbox_dir
    assert status["status"] == "delivered"
    path = Path(status["history"][-1]["details"]["location"])
    assert path.parent.parent == inbox
    assert await asyncio.to_thread(path.read_bytes) == body


async def test_an_unwritable_inbox_folder_asks_for_a_retry_not_a_fallback(tmp_path: Path) -> None:
    """A network inbox folder that cannot be written (a file stands where the folder should be)
    is a passing problem: the channel asks to retry, naming the cause, and raises nothing."""
    (tmp_path / "inbox").write_text("not a folder")
    channel = NetworkFolderChannel(tmp_path / "inbox")
    parcel = parcel_of(invoice("NET-2"))
    outcome = await channel.deliver(parcel, Recipient(str(BUYER), "Buyer"))
    assert outcome.verdict is Verdict.RETRY
    assert "could not write its inbox folder" in outcome.reason


class _Accounts:
    def __init__(self, *with_account: str) -> None:
        self.ids = set(with_account)

    async def has_recipient_account(self, participant: str) -> bool:
        return participant in self.ids


async def test_the_inbox_channel_refuses_a_recipient_nobody_can_read_it_for() -> None:
    """The api and portal channels deliver only to a participant with a recipient account;
    without one they refuse, saying how an admin creates it, so the waterfall moves on."""
    parcel = parcel_of(invoice("INBOX-1"))
    buyer = Recipient(str(BUYER), "Buyer")
    refused = await InboxChannel("api", _Accounts()).deliver(parcel, buyer)
    assert refused.verdict is Verdict.REFUSED
    assert f"gateway recipients add {BUYER}" in refused.reason
    done = await InboxChannel("portal", _Accounts(str(BUYER))).deliver(parcel, buyer)
    assert done.verdict is Verdict.DELIVERED and "portal inbox" in done.reason
    assert done.details["inbox"] == f"/api/v1/inbox/{parcel.meta.id}"


async def test_a_participant_with_an_export_folder_gets_the_accounting_files(
    network_dir: tuple[Path, str], tmp_path: Path
) -> None:
    """A participant with `export_dir` set finds each document delivered to it in its export
    folder: the UBL, one line of invoices.jsonl with the invoice number (BT-1) and its lines in
    invoice-lines.csv; the delivered event names the export."""
    cfg, token = network_dir
    set_delivery(cfg, poll_seconds=0.02)
    export = tmp_path / "accounting"
    set_participant(cfg, BUYER, export_dir=export)
    body = invoice("EXP-1")
    async with serve_api(cfg, token) as api:
        status = await api.send_and_wait(body)
    assert status["status"] == "delivered", status["history"]
    assert status["history"][-1]["details"]["export"]["export_dir"] == str(export)
    doc_id = status["id"]
    assert (export / f"{doc_id}.xml").read_bytes() == body
    lines = (export / "invoices.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["BT-1_invoice_number"] == "EXP-1"
    rows = list(csv.DictReader((export / "invoice-lines.csv").read_text("utf-8-sig").splitlines()))
    assert rows and all(row["document_id"] == doc_id for row in rows)
