"""The e-mail channel inside the gateway: configured in gateway.toml, chosen
by a participant, sending to a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.builders import BUYER, invoice, serve_api, set_delivery, set_participant, smtp_server
from tests.support import free_port


async def test_email_reception_sends_and_an_unknown_mailbox_falls_back(
    network_dir: tuple[Path, str],
) -> None:
    """A participant with reception ["email", "network"] gets its invoice by e-mail (PDF and
    UBL attached, the exact bytes); when the SMTP server answers 550 for its mailbox, the next
    invoice falls back to its network inbox folder, and the history quotes the server."""
    cfg, token = network_dir
    port = free_port()
    set_delivery(cfg, poll_seconds=0.02)
    set_participant(cfg, BUYER, reception=["email", "network"], email="ap@buyer.example")
    cfg.write_text(
        cfg.read_text()
        + f'\n[channels.email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        + 'from = "invoices@alpha.example"\n'
    )
    body = invoice("MAIL-1")
    with smtp_server(port) as box:
        async with serve_api(cfg, token) as api:
            sent = await api.send_and_wait(body)
            box.rcpt_reply = "550 5.1.1 No such mailbox"
            bounced = await api.send_and_wait(invoice("MAIL-2"))
    assert sent["status"] == "delivered", sent["history"]
    assert sent["history"][-1]["details"]["channel"] == "email"
    assert len(box.received) == 1 and box.received[0].recipients == ["ap@buyer.example"]
    message = box.received[0].message()
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    xml = next(p for name, p in attachments.items() if name and name.endswith(".xml"))
    assert xml.get_payload(decode=True) == body
    assert any(name and name.endswith(".pdf") for name in attachments)
    states = [e["state"] for e in bounced["history"]]
    assert states == ["received", "routed", "fallback", "delivered"], bounced["history"]
    assert "550" in bounced["history"][2]["reason"]
    assert bounced["history"][-1]["details"]["channel"] == "network"


async def test_smtp_down_is_retried_and_no_address_falls_back(
    network_dir: tuple[Path, str],
) -> None:
    """With the SMTP relay down, an e-mail recipient's invoice is retried (attempt_failed naming
    the relay) while /healthz stays 200, and is sent once the relay is up; a participant that
    chose e-mail first but has no address gets its next mode at once, with that reason."""
    cfg, token = network_dir
    port = free_port()
    set_delivery(cfg, poll_seconds=0.02, initial_backoff_seconds=0.2, max_backoff_seconds=0.3)
    set_participant(cfg, BUYER, reception=["email", "network"], email="ap@buyer.example")
    cfg.write_text(
        cfg.read_text()
        + f'\n[channels.email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        + 'from = "invoices@alpha.example"\nconnect_timeout_seconds = 1\n'
    )
    async with serve_api(cfg, token) as api:
        resp = await api.client.post(
            "/api/v1/documents", data=invoice("DOWN-1"), headers=api.auth()
        )
        doc_id = (await resp.json())["id"]
        for _ in range(300):
            got = await api.client.get(f"/api/v1/documents/{doc_id}", headers=api.auth())
            status = await got.json()
            if any(e["state"] == "attempt_failed" for e in status["history"]):
                break
            await asyncio.sleep(0.02)
        failed = [e for e in status["history"] if e["state"] == "attempt_failed"]
        assert failed and "email:" in failed[0]["reason"], status["history"]
        assert (await api.client.get("/healthz")).status == 200
        with smtp_server(port) as box:
            sent = await api.wait_final(doc_id)
        assert sent["status"] == "delivered" and len(box.received) == 1
        assert sent["history"][-1]["details"]["channel"] == "email"

    set_participant(cfg, BUYER, email="")
    async with serve_api(cfg, token) as api:
        moved = await api.send_and_wait(invoice("NOADDR-1"))
    assert [e["state"] for e in moved["history"]][-2:] == ["fallback", "delivered"]
    assert "no e-mail address" in moved["history"][-2]["reason"]
    assert moved["history"][-1]["details"]["channel"] == "network"


async def test_pdfs_rendered_in_processes_reach_the_mailbox(network_dir: tuple[Path, str]) -> None:
    """With `render_processes = 1` the PDF is rendered in a separate process and the e-mail
    still carries it; the process pool ends with the gateway."""
    cfg, token = network_dir
    port = free_port()
    set_delivery(cfg, poll_seconds=0.02)
    set_participant(cfg, BUYER, reception="email", email="ap@buyer.example")
    cfg.write_text(
        cfg.read_text()
        + f'\n[channels.email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        + 'from = "invoices@alpha.example"\nrender_processes = 1\n'
    )
    with smtp_server(port) as box:
        async with serve_api(cfg, token) as api:
            pool = api.gw.pipeline.delivery.channels["email"].executor  # type: ignore[attr-defined]
            sent = await api.send_and_wait(invoice("PROC-1"))
    assert sent["status"] == "delivered", sent["history"]
    [mail] = box.received
    names = [p.get_filename() or "" for p in mail.message().iter_attachments()]
    assert any(n.endswith(".pdf") for n in names)
    assert pool is not None
    with pytest.raises(RuntimeError):  # shut down with the gateway: it takes no more work
        pool.submit(len, "")
