"""The e-mail channel against a real SMTP server on loopback (aiosmtpd): what
the recipient receives, read back with the standard library's parser, and
what the channel answers when the server says no, later, or nothing."""

from __future__ import annotations

import asyncio
import io
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from gateway.channels.base import Outcome, Recipient, Verdict
from gateway.channels.email import EmailChannel
from gateway.channels.email_message import Letter, body, compose
from gateway.config.email import EmailSettings
from gateway.model import DocumentKind
from gateway.pki import certificates as certs
from tests.builders import (
    Pki,
    credit_note,
    invoice,
    parcel,
    server_certificate,
    smtp_server,
)
from tests.support import REPO, free_port

RECIPIENT = Recipient(id="0088:5730000002005", name="Maison Verlaine", email="ap@verlaine.example")


def _settings(port: int, **changes: object) -> EmailSettings:
    base = EmailSettings(
        host="127.0.0.1",
        port=port,
        tls="none",
        sender="invoices@gateway.example",
        connect_timeout_seconds=5,
        timeout_seconds=5,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def _deliver(channel: EmailChannel, *args: object, **kwargs: object) -> Outcome:
    try:
        return await channel.deliver(*args, **kwargs)  # type: ignore[arg-type]
    finally:
        await channel.close()


async def test_the_recipient_gets_a_readable_letter_with_the_pdf_and_the_exact_ubl() -> None:
    """The e-mail goes to the recipient's address from ours, says who sends which invoice for
    how much and by when, links the portal, and carries the PDF (its text readable) and the
    UBL document byte for byte."""
    port = free_port()
    body = invoice("INV-2026-042")
    with smtp_server(port) as box:
        channel = EmailChannel(_settings(port, portal_url="https://portal.example/inbox"))
        out = await _deliver(
            channel, parcel(body, doc_id="d-42", business_id="INV-2026-042"), RECIPIENT
        )
    assert out.verdict is Verdict.DELIVERED, out
    assert out.reason == "sent to ap@verlaine.example"
    assert out.details == {
        "message_id": "<d-42.invoice@gateway.example>",
        "to": "ap@verlaine.example",
    }
    [got] = box.received
    assert (got.sender, got.recipients) == ("invoices@gateway.example", ["ap@verlaine.example"])
    msg = got.message()
    assert msg["To"] == "ap@verlaine.example" and msg["From"] == "invoices@gateway.example"
    assert msg["Subject"] == "Invoice INV-2026-042 from Abaque Conseil"
    assert msg["Message-ID"] == "<d-42.invoice@gateway.example>"
    text = msg.get_body(("plain",))
    assert text is not None
    letter = text.get_content()
    for expected in (
        "Abaque Conseil has sent you an invoice",
        "Invoice number: INV-2026-042",
        "Amount due:  1250.00 EUR",
        "Issue date:  2026-10-30",
        "Due date:    2026-11-29",
        "https://portal.example/inbox",
    ):
        assert expected in letter
    files = {part.get_filename(): part for part in msg.iter_attachments()}
    assert set(files) == {"INV-2026-042.pdf", "INV-2026-042.xml"}
    assert files["INV-2026-042.xml"].get_content_type() == "application/xml"
    assert files["INV-2026-042.xml"].get_payload(decode=True) == body
    pdf = files["INV-2026-042.pdf"].get_payload(decode=True)
    assert isinstance(pdf, bytes)
    assert files["INV-2026-042.pdf"].get_content_type() == "application/pdf"
    pages = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "INV-2026-042" in pages


async def test_a_credit_note_is_called_a_credit_note() -> None:
    """A credit note's e-mail says "Credit note" in its subject and its text, and a seller
    name in another alphabet reads right in both."""
    port = free_port()
    with smtp_server(port) as box:
        out = await _deliver(
            EmailChannel(_settings(port)),
            parcel(
                credit_note("CN-7"),
                kind=DocumentKind.CREDIT_NOTE,
                business_id="CN-7",
                seller_name="Société Générale Ελλάς",
            ),
            RECIPIENT,
        )
    assert out.verdict is Verdict.DELIVERED, out
    msg = box.received[0].message()
    assert msg["Subject"] == "Credit note CN-7 from Société Générale Ελλάς"
    assert "Société Générale Ελλάς has sent" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "has sent you a credit note" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_line_breaks_in_the_document_cannot_add_headers() -> None:
    """A seller name or invoice number carrying CR/LF and a header stays on the subject line
    (folded to spaces); no Bcc or other header appears, and the file names stay plain."""
    port = free_port()
    evil_number = "INV-1\r\nBcc: victim@evil.example"
    evil_seller = "Evil Ltd\nX-Injected: yes\r\n\r\nbody"
    with smtp_server(port) as box:
        out = await _deliver(
            EmailChannel(_settings(port)),
            parcel(invoice(), business_id=evil_number, seller_name=evil_seller),
            RECIPIENT,
        )
    assert out.verdict is Verdict.DELIVERED, out
    [got] = box.received
    msg = got.message()
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert got.recipients == ["ap@verlaine.example"]
    # One Subject header, folded by the e-mail library where it is long.
    assert msg["Subject"].strip() == (
        "Invoice INV-1 Bcc: victim@evil.example from Evil Ltd X-Injected: yes body"
    )
    names = sorted(p.get_filename() or "" for p in msg.iter_attachments())
    assert names == ["INV-1_Bcc_victim_evil.example.pdf", "INV-1_Bcc_victim_evil.example.xml"]


async def test_a_recipient_without_an_address_is_refused_without_connecting() -> None:
    """No e-mail address (or one that is not an address) is refused at once, so the next mode
    of the waterfall takes over; the server sees no connection."""
    port = free_port()
    with smtp_server(port) as box:
        channel = EmailChannel(_settings(port))
        none = await channel.deliver(parcel(invoice()), replace(RECIPIENT, email=""))
        bad = await channel.deliver(
            parcel(invoice()), replace(RECIPIENT, email="ap@verlaine.example\r\nBcc: x@y.z")
        )
        await channel.close()
    assert none == Outcome.refused("no e-mail address for 0088:5730000002005")
    assert bad.verdict is Verdict.REFUSED and "not usable" in bad.reason
    assert box.connections == 0 and box.received == []


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "452 4.2.2 Mailbox full"])
async def test_a_temporary_refusal_is_retried(reply: str) -> None:
    """A 4xx answer to the recipient is "retry", with the server's words in the reason."""
    port = free_port()
    with smtp_server(port) as box:
        box.rcpt_reply = reply
        out = await _deliver(EmailChannel(_settings(port)), parcel(invoice()), RECIPIENT)
    assert out.verdict is Verdict.RETRY, out
    assert reply in out.reason and out.details["code"] == int(reply[:3])


async def test_a_temporary_refusal_of_the_message_is_retried() -> None:
    """A 421 answer to the message itself (DATA) is "retry"."""
    port = free_port()
    with smtp_server(port) as box:
        box.data_reply = "421 4.7.0 Too busy, come back later"
        out = await _deliver(EmailChannel(_settings(port)), parcel(invoice()), RECIPIENT)
    assert out.verdict is Verdict.RETRY, out
    assert "421 4.7.0 Too busy" in out.reason


async def test_an_unknown_mailbox_is_refused_with_the_servers_reply() -> None:
    """550 for the recipient is "refused", reason and code from the server, so the waterfall
    moves on; the kept connection still sends the next message."""
    port = free_port()
    with smtp_server(port) as box:
        channel = EmailChannel(_settings(port))
        box.rcpt_reply = "550 5.1.1 No such mailbox here"
        out = await channel.deliver(parcel(invoice()), RECIPIENT)
        box.rcpt_reply = ""
        after = await channel.deliver(parcel(invoice(), doc_id="doc-2"), RECIPIENT)
        await channel.close()
    assert out.verdict is Verdict.REFUSED, out
    assert out.reason == "the relay refused ap@verlaine.example: 550 5.1.1 No such mailbox here"
    assert after.verdict is Verdict.DELIVERED and len(box.received) == 1
    assert box.connections == 1


async def test_a_message_refused_for_good_is_refused() -> None:
    """554 to the message (DATA) is "refused" with the server's reply."""
    port = free_port()
    with smtp_server(port) as box:
        box.data_reply = "554 5.7.1 Message rejected as spam"
        out = await _deliver(EmailChannel(_settings(port)), parcel(invoice()), RECIPIENT)
    assert out.verdict is Verdict.REFUSED, out
    assert "554 5.7.1 Message rejected as spam" in out.reason


async def test_a_server_that_is_down_means_retry_not_an_exception() -> None:
    """Nothing listening on the port: "retry" naming the relay, nothing raised."""
    port = free_port()
    out = await _deliver(EmailChannel(_settings(port)), parcel(invoice()), RECIPIENT)
    assert out.verdict is Verdict.RETRY, out
    assert f"127.0.0.1:{port}" in out.reason


async def test_a_relay_that_never_answers_means_retry() -> None:
    """A relay that accepts the connection and says nothing: "retry" once the connect
    time-out passes, nothing raised."""
    silent: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)  # kept open, never written to

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        channel = EmailChannel(_settings(port, connect_timeout_seconds=0.3))
        out = await _deliver(channel, parcel(invoice()), RECIPIENT)
    finally:
        server.close()
        for writer in silent:
            writer.close()
    assert out.verdict is Verdict.RETRY, out
    assert out.reason == f"the relay 127.0.0.1:{port} did not answer in time"


async def test_a_connection_the_server_dropped_is_replaced() -> None:
    """After the server restarts, the kept connection is dead; the next document is sent on a
    new one instead of waiting for a retry."""
    port = free_port()
    channel = EmailChannel(_settings(port))
    with smtp_server(port) as box:
        first = await channel.deliver(parcel(invoice()), RECIPIENT)
    with smtp_server(port) as box:
        second = await channel.deliver(parcel(invoice(), doc_id="doc-2"), RECIPIENT)
    await channel.close()
    assert (first.verdict, second.verdict) == (Verdict.DELIVERED, Verdict.DELIVERED)
    assert len(box.received) == 1


async def test_a_kept_connection_the_relay_is_closing_is_replaced() -> None:
    """A relay that answers 421 on a kept connection (its idle time-out) gets the document on
    a fresh connection at once; a 421 on a fresh connection is "retry"."""
    port = free_port()
    with smtp_server(port) as box:
        channel = EmailChannel(_settings(port))
        await channel.deliver(parcel(invoice()), RECIPIENT)
        box.mail_replies = ["421 4.4.2 Idle timeout, closing"]
        kept = await channel.deliver(parcel(invoice(), doc_id="doc-2"), RECIPIENT)
        await channel.close()
        box.mail_replies = ["421 4.4.2 Idle timeout, closing"]
        fresh = await _deliver(EmailChannel(_settings(port)), parcel(invoice()), RECIPIENT)
    assert kept.verdict is Verdict.DELIVERED, kept
    assert len(box.received) == 2 and box.connections == 3
    assert fresh.verdict is Verdict.RETRY and "421 4.4.2 Idle timeout" in fresh.reason, fresh


async def test_the_same_document_keeps_its_message_id_across_attempts() -> None:
    """Two deliveries of one document carry the same Message-ID and the same attachments, so
    a retry is recognisable; another document gets another one."""
    port = free_port()
    with smtp_server(port) as box:
        channel = EmailChannel(_settings(port))
        body = invoice()
        await channel.deliver(parcel(body, doc_id="d-1"), RECIPIENT)
        later = parcel(body, doc_id="d-1")
        await channel.deliver(replace(later, attempt=2), RECIPIENT)
        await channel.deliver(parcel(invoice(), doc_id="d-2"), RECIPIENT)
        await channel.close()
    ids = [r.message()["Message-ID"] for r in box.received]
    assert ids[0] == ids[1] != ids[2]
    pdfs = [
        [p.get_payload(decode=True) for p in r.message().iter_attachments()]
        for r in box.received[:2]
    ]
    assert pdfs[0] == pdfs[1]


async def test_starttls_with_login_reads_the_password_and_checks_the_certificate(
    pki: Pki, tmp_path: Path
) -> None:
    """Over STARTTLS with a certificate from our CA and a login, the message arrives; a relay
    whose certificate we do not trust is "retry" and gets no login."""
    port = free_port()
    ca_file = tmp_path / "relay-ca.pem"
    ca_file.write_bytes(certs.certificate_pem(pki.ca[1]))
    tls = server_certificate(pki.ca)
    settings = _settings(
        port, tls="starttls", ca_file=ca_file, username="gw", password="s3cret-pass"
    )
    with smtp_server(port, tls=tls, workdir=tmp_path, login=("gw", "s3cret-pass")) as box:
        ok = await _deliver(EmailChannel(settings), parcel(invoice()), RECIPIENT)
        untrusted = await _deliver(
            EmailChannel(replace(settings, ca_file=None)), parcel(invoice()), RECIPIENT
        )
        wrong = await _deliver(
            EmailChannel(replace(settings, password="nope-nope")), parcel(invoice()), RECIPIENT
        )
    assert ok.verdict is Verdict.DELIVERED, ok
    assert len(box.received) == 1 and box.logins == ["gw"]
    assert untrusted.verdict is Verdict.RETRY and "certificate" in untrusted.reason, untrusted
    assert wrong.verdict is Verdict.RETRY and "login" in wrong.reason, wrong


async def test_implicit_tls_delivers(pki: Pki, tmp_path: Path) -> None:
    """tls = "implicit" (TLS from the first byte, port 465 style) delivers to such a relay."""
    port = free_port()
    ca_file = tmp_path / "relay-ca.pem"
    ca_file.write_bytes(certs.certificate_pem(pki.ca[1]))
    tls = server_certificate(pki.ca)
    with smtp_server(port, tls=tls, workdir=tmp_path, implicit=True) as box:
        out = await _deliver(
            EmailChannel(_settings(port, tls="implicit", ca_file=ca_file)),
            parcel(invoice()),
            RECIPIENT,
        )
    assert out.verdict is Verdict.DELIVERED, out
    assert len(box.received) == 1


async def test_plain_smtp_refused_by_a_server_that_requires_starttls_is_retried(
    pki: Pki, tmp_path: Path
) -> None:
    """tls = "none" against a relay that requires STARTTLS: "retry" with its reply."""
    port = free_port()
    with smtp_server(port, tls=server_certificate(pki.ca), workdir=tmp_path) as box:
        out = await _deliver(EmailChannel(_settings(port)), parcel(invoice()), RECIPIENT)
    assert out.verdict is Verdict.RETRY, out
    assert box.received == []


async def test_pdfs_can_be_rendered_in_a_process_pool() -> None:
    """With a process pool as executor, the PDFs are rendered there and the e-mails are the
    same as with the default threads."""
    port = free_port()
    body = invoice("INV-POOL")
    with smtp_server(port) as box, ProcessPoolExecutor(1) as pool:
        one = parcel(body, business_id="INV-POOL")
        await _deliver(EmailChannel(_settings(port)), one, RECIPIENT)
        out = await _deliver(EmailChannel(_settings(port), executor=pool), one, RECIPIENT)
    assert out.verdict is Verdict.DELIVERED, out
    pdfs = [
        next(p for p in r.message().iter_attachments() if p.get_filename() == "INV-POOL.pdf")
        for r in box.received
    ]
    assert pdfs[0].get_payload(decode=True) == pdfs[1].get_payload(decode=True)


async def test_a_payload_that_is_not_a_document_is_refused_without_sending() -> None:
    """Bytes that are not XML cannot be rendered: "refused" saying so, nothing sent."""
    port = free_port()
    with smtp_server(port) as box:
        out = await _deliver(EmailChannel(_settings(port)), parcel(b"not xml at all"), RECIPIENT)
    assert out.verdict is Verdict.REFUSED, out
    assert out.reason.startswith("the document cannot be rendered as a PDF")
    assert box.received == []


async def test_concurrent_deliveries_share_a_few_connections() -> None:
    """Fifty documents at once go out on at most `connections` SMTP connections."""
    port = free_port()
    with smtp_server(port) as box:
        channel = EmailChannel(_settings(port, connections=3))
        outs = await asyncio.gather(
            *(channel.deliver(parcel(invoice(), doc_id=f"d-{i}"), RECIPIENT) for i in range(50))
        )
        await channel.close()
    assert {o.verdict for o in outs} == {Verdict.DELIVERED}
    assert len(box.received) == 50 and box.connections <= 3


def test_the_letter_shown_in_the_docs_is_the_one_sent() -> None:
    """docs/email.md shows the text of the message as the channel writes it, line for line."""
    shown = (REPO / "docs" / "email.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(From: .*?)\n\n(Hello,\n.*?)```", shown, re.S)
    assert block is not None
    one = parcel(invoice(), doc_id="d-42", business_id="INV-2026-042")
    assert block.group(2) == body(one.meta, "https://portal.example.com/")
    sent = compose(
        Letter(
            one.meta,
            one.payload,
            b"%PDF",
            to="ap@verlaine.example",
            sender="invoices@example.com",
            sent_at=one.now,
        )
    ).decode("ascii")
    for header in block.group(1).splitlines():
        assert f"\r\n{header}\r\n" in "\r\n" + sent, header
