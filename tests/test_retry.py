"""Sending a dead letter out again, once its cause is fixed: over HTTP with
the admin token, and with `gateway retry` on the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.channels.base import MemoryChannel, Outcome
from tests.builders import BUYER, invoice, serve_api, set_delivery, set_participant
from tests.support import cli


async def test_an_admin_sends_a_failed_document_out_again(network_dir: tuple[Path, str]) -> None:
    """A document whose only channel refused ends failed; POST /admin/documents/{id}/retry with
    the admin token answers 202 and the document is delivered afresh (the waterfall starts
    again: the channel that refused is asked once more). A second retry of the delivered
    document is 409 naming its state, an unknown id 404, and no admin token 401."""
    cfg, token = network_dir
    set_delivery(cfg, poll_seconds=0.02)
    set_participant(cfg, BUYER, reception="email", email="ap@buyer.example")
    admin = (cfg.parent / "admin.token").read_text().strip()
    auth = {"Authorization": f"Bearer {admin}"}
    async with serve_api(cfg, token) as api:
        email = MemoryChannel(
            "email", [Outcome.refused("550 no such mailbox"), Outcome.delivered("sent")]
        )
        api.gw.pipeline.delivery.channels["email"] = email
        failed = await api.send_and_wait(invoice("RETRY-1"))
        assert failed["status"] == "failed", failed["history"]
        doc_id = failed["id"]

        resp = await api.client.post(f"/admin/documents/{doc_id}/retry", headers=auth)
        assert resp.status == 202, await resp.text()
        assert (await resp.json())["state"] == "requeued"
        again = await api.wait_final(doc_id)
        states = [e["state"] for e in again["history"]]
        assert states[-4:] == ["failed", "requeued", "routed", "delivered"], states
        assert len(email.received) == 2

        twice = await api.client.post(f"/admin/documents/{doc_id}/retry", headers=auth)
        assert twice.status == 409 and "is delivered" in (await twice.json())["message"]
        unknown = await api.client.post("/admin/documents/nope/retry", headers=auth)
        assert unknown.status == 404
        anonymous = await api.client.post(f"/admin/documents/{doc_id}/retry")
        assert anonymous.status == 401


async def test_gateway_retry_requeues_through_the_store(network_dir: tuple[Path, str]) -> None:
    """`gateway retry ID` queues a failed document again in the store (the running worker
    delivers it), refuses a document that did not fail with exit 1 naming its state, and an
    unknown id with exit 1."""
    cfg, token = network_dir
    set_delivery(cfg, poll_seconds=0.02)
    set_participant(cfg, BUYER, reception="email", email="ap@buyer.example")
    async with serve_api(cfg, token) as api:
        email = MemoryChannel("email", [Outcome.refused("no mailbox"), Outcome.delivered("sent")])
        api.gw.pipeline.delivery.channels["email"] = email
        doc_id = (await api.send_and_wait(invoice("RETRY-2")))["id"]
        out = await asyncio.to_thread(cli, "retry", doc_id, "--config", str(cfg))
        assert out.returncode == 0, out.stderr
        assert "requeued" in out.stdout
        delivered = await api.wait_final(doc_id)
        assert delivered["status"] == "delivered", delivered["history"]
        refused = await asyncio.to_thread(cli, "retry", doc_id, "--config", str(cfg))
        assert refused.returncode == 1 and "is delivered" in refused.stderr
        missing = await asyncio.to_thread(cli, "retry", "nope", "--config", str(cfg))
        assert missing.returncode == 1 and "no document 'nope'" in missing.stderr
