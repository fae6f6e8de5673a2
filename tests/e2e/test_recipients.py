"""Every invoice reaches its recipient the way it chose, through two real
gateway processes exchanging over AS4 on loopback, the real CLI and HTTP, a
real SMTP server, a real SFTP server (the print house) and a webhook
receiver: the issue's "done when" in one journey."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from lxml import etree
from pypdf import PdfReader

from gateway.cli.scaffold import gln
from tests import logwatch
from tests.builders import invoice, set_delivery, set_participant, smtp_server
from tests.builders.sftp import SftpServer, sftp_server
from tests.builders.smtp import Mailbox
from tests.support import Network, cli, free_port, http, make_network

SELLER = f"0088:{gln('5730000301')}"  # alpha's sender invoices for it
API_BUYER = f"0088:{gln('5730000302')}"  # alpha's own: reads its inbox API, exports to accounting
MAIL_BUYER = f"0088:{gln('5740000303')}"  # beta's: receives by e-mail
PAPER_BUYER = f"0088:{gln('5740000304')}"  # beta's: receives on paper


@dataclass
class Hooks:
    url: str
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def hooks() -> AsyncIterator[Hooks]:
    """A webhook receiver on loopback answering 204."""
    port = free_port()
    received = Hooks(f"http://127.0.0.1:{port}/hooks")

    async def handle(request: web.Request) -> web.Response:
        received.calls.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield received
    finally:
        await runner.cleanup()


@pytest.fixture
def networks(tmp_path: Path) -> Iterator[tuple[Network, Network, Path]]:
    """Alpha (the seller and the API recipient) and beta (the e-mail and paper recipients),
    peered both ways; beta has no mandate, so paper is allowed for its recipient."""
    alpha = make_network(tmp_path, "alpha", participants=[SELLER, API_BUYER])
    beta = make_network(
        tmp_path, "beta", participants=[MAIL_BUYER, PAPER_BUYER], ca_dir=alpha.directory / "certs"
    )
    alpha.peer_with(beta)
    beta.peer_with(alpha)
    fast = {"poll_seconds": 0.05, "initial_backoff_seconds": 0.2}
    alpha.set_delivery(**fast)
    beta.set_delivery(**fast)
    text = beta.config.read_text()
    beta.config.write_text(text[: text.index("[[mandates]]")] + text[text.index("[channels]") :])
    export = tmp_path / "accounting"
    set_participant(alpha.config, API_BUYER, reception="api", export_dir=export)
    set_participant(beta.config, MAIL_BUYER, reception="email", email="ap@mail-buyer.example")
    set_participant(beta.config, PAPER_BUYER, reception="paper")
    yield alpha, beta, export
    alpha.stop()
    beta.stop()


def _configure_beta(beta: Network, smtp_port: int, house: SftpServer) -> None:
    beta.append(
        "[channels.email]\n"
        f'host = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\nfrom = "invoices@beta.example"\n'
        "\n[print_house]\n"
        f'handoff = "sftp"\nsftp_host = "127.0.0.1"\nsftp_port = {house.port}\n'
        f'username = "printer"\nkey_file = "{house.client_key}"\n'
        f'known_hosts = "{house.known_hosts}"\nremote_dir = "incoming"\n'
    )
    set_delivery(beta.config, poll_seconds=0.05)


async def _run(*args: str) -> str:
    out = await asyncio.to_thread(cli, *args)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out.stdout


async def _wait(check: Any, what: str) -> Any:
    for _ in range(300):
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _send(alpha: Network, number: str, buyer: str) -> dict[str, Any]:
    code, answer = await asyncio.to_thread(
        alpha.submit, invoice(number, seller=SELLER, buyer=buyer)
    )
    assert code == 202, answer
    final = await asyncio.to_thread(alpha.wait_final, answer["id"])
    assert final["status"] == "delivered", final["history"]
    return final


def _c14n(xml: bytes) -> bytes:
    return etree.tostring(etree.fromstring(xml), method="c14n", with_comments=False)


def _signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers["webhook-signature"], f"v1,{mac}")


async def test_each_recipient_receives_the_way_it_chose(
    networks: tuple[Network, Network, Path], hooks: Hooks, tmp_path: Path
) -> None:
    """Alpha's sender invoices three recipients. Beta's e-mail recipient finds it in a real
    SMTP mailbox with the PDF and the exact UBL attached. Alpha's API recipient, created with
    `gateway recipients add --webhook`, gets a correctly signed webhook call, lists the invoice,
    downloads the UBL as submitted and a readable PDF, and acks it: the sender's status then
    says retrieved, and the accounting export folder holds its JSON and CSV records. Beta's
    paper recipient's invoice is in the batch ZIP that `gateway print close` uploads to the
    print house's SFTP server, and the house's `posted` confirmation, imported with
    `gateway print import-status`, shows in its history."""
    alpha, beta, export = networks
    house = sftp_server(tmp_path / "house")
    await house.start()
    smtp_port = free_port()
    _configure_beta(beta, smtp_port, house)
    added = await _run(
        "recipients", "add", API_BUYER, "--webhook", hooks.url, "--config", str(alpha.config)
    )
    token = re.search(r"token \(shown once, keep it secret\): (\S+)", added)
    secret = re.search(r"secret \(shown once\): (\S+)", added)
    assert token and secret, added
    rcp, whsec = token.group(1), secret.group(1)
    logwatch.register(rcp)
    logwatch.register(whsec)
    try:
        with smtp_server(smtp_port) as box:
            await asyncio.to_thread(beta.start)
            await asyncio.to_thread(alpha.start)
            await _by_email(alpha, box)
            await _by_inbox_api(alpha, export, hooks, rcp, whsec)
            await _on_paper(alpha, beta, house, tmp_path)
    finally:
        await house.stop()


async def _by_email(alpha: Network, box: Mailbox) -> None:
    body = invoice("E2E-MAIL", seller=SELLER, buyer=MAIL_BUYER)
    await _send(alpha, "E2E-MAIL", MAIL_BUYER)
    await _wait(lambda: box.received, "the e-mail at the SMTP server")
    [mail] = box.received
    assert mail.recipients == ["ap@mail-buyer.example"]
    parts = {p.get_filename() or "": p for p in mail.message().iter_attachments()}
    [xml] = [p for name, p in parts.items() if name.endswith(".xml")]
    [pdf] = [p for name, p in parts.items() if name.endswith(".pdf")]
    # Across networks the business document comes out of the SBDH: equal in canonical XML.
    delivered = xml.get_payload(decode=True)
    assert isinstance(delivered, bytes) and _c14n(delivered) == _c14n(body)
    pdf_bytes = pdf.get_payload(decode=True)
    assert isinstance(pdf_bytes, bytes)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert "E2E-MAIL" in text


async def _by_inbox_api(alpha: Network, export: Path, hooks: Hooks, rcp: str, whsec: str) -> None:
    body = invoice("E2E-API", seller=SELLER, buyer=API_BUYER)
    sent = await _send(alpha, "E2E-API", API_BUYER)
    doc_id = sent["id"]
    assert sent["history"][-1]["details"]["channel"] == "api"

    code, page = await asyncio.to_thread(http, "GET", alpha.url + "/api/v1/inbox", token=rcp)
    assert code == 200, page
    assert [d["id"] for d in page["documents"]] == [doc_id]
    assert page["documents"][0]["business_id"] == "E2E-API"
    code, ubl = await asyncio.to_thread(
        http, "GET", f"{alpha.url}/api/v1/inbox/{doc_id}/ubl", token=rcp
    )
    assert code == 200 and ubl == body
    code, pdf = await asyncio.to_thread(
        http, "GET", f"{alpha.url}/api/v1/inbox/{doc_id}/pdf", token=rcp
    )
    assert code == 200 and isinstance(pdf, bytes)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "E2E-API" in text
    code, acked = await asyncio.to_thread(
        http, "POST", f"{alpha.url}/api/v1/inbox/{doc_id}/ack", token=rcp
    )
    assert code == 200 and acked["state"] == "retrieved", acked
    assert (await asyncio.to_thread(alpha.status, doc_id))["status"] == "retrieved"

    def received_call() -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in hooks.calls if json.loads(b)["type"] == "document.received"]

    [(headers, call)] = await _wait(received_call, "the recipient's webhook call")
    assert _signed(whsec, headers, call)
    assert json.loads(call)["document"]["id"] == doc_id

    assert (export / f"{doc_id}.xml").read_bytes() == body
    [record] = [json.loads(ln) for ln in (export / "invoices.jsonl").read_text().splitlines()]
    assert record["BT-1_invoice_number"] == "E2E-API" and record["document_id"] == doc_id
    lines = list(csv.DictReader((export / "invoice-lines.csv").read_text("utf-8-sig").splitlines()))
    assert lines and {row["document_id"] for row in lines} == {doc_id}


async def _on_paper(alpha: Network, beta: Network, house: SftpServer, tmp_path: Path) -> None:
    await _send(alpha, "E2E-PAPER", PAPER_BUYER)

    def printed() -> list[dict[str, Any]]:
        out = cli("documents", "--state", "printed", "--json", "--config", str(beta.config))
        return list(json.loads(out.stdout)) if out.returncode == 0 else []

    [doc] = await _wait(printed, "beta to print the invoice")
    beta_id = doc["id"]
    day = datetime.now(UTC).date().isoformat()
    closed = await _run("print", "close", "--date", day, "--config", str(beta.config))
    assert "handed off" in closed, closed
    [uploaded] = list((house.root / "incoming").glob("*.zip"))
    with zipfile.ZipFile(uploaded) as archive:
        names = archive.namelist()
        [manifest] = [n for n in names if n.endswith("manifest.csv")]
        rows = list(csv.DictReader(archive.read(manifest).decode("utf-8").splitlines()))
        assert any(n.endswith(".pdf") for n in names)
    assert [row["document_id"] for row in rows] == [beta_id]

    confirmation = tmp_path / "confirmation.csv"
    confirmation.write_text(f"document_id,status,date\n{beta_id},posted,{day}\n")
    await _run("print", "import-status", str(confirmation), "--config", str(beta.config))
    shown = await _run("status", beta_id, "--local", "--json", "--config", str(beta.config))
    history = json.loads(shown)["history"]
    assert [e["state"] for e in history][-2:] == ["printed", "posted"]
