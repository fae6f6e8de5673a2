"""Delivery retries and dead letters, in process, with a peer that never answers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.server.app import make_app, running
from tests.conftest import STRANGER, invoice
from tests.support import free_port


def _unreachable_peer(cfg: Path, **delivery: float) -> None:
    text = cfg.read_text()
    for key, value in delivery.items():
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith(f"{key} ="))
        text = text.replace("[delivery]", f"[delivery]\n{key} = {value}", 1)
    text += f"""
[[peers]]
name = "silent"
provider_id = "PSILENT"
endpoint = "http://127.0.0.1:{free_port()}/as4"
certificate = "certs/ap.pem"
participants = ["{STRANGER}"]
"""
    cfg.write_text(text)


async def test_failing_deliveries_are_retried_then_dead_lettered(
    network_dir: tuple[Path, str],
) -> None:
    """Deliveries to a peer that never answers are retried several times, then fail with "gave up
    retrying after" and the attempt count, are counted as failed, and leave the outbox."""
    cfg, token = network_dir
    _unreachable_peer(
        cfg,
        initial_backoff_seconds=0.05,
        max_backoff_seconds=0.1,
        give_up_after_seconds=0.6,
        timeout_seconds=0.5,
        lease_seconds=2,
        poll_seconds=0.02,
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    async with running(loader.load(cfg)) as gw, TestClient(TestServer(make_app(gw))) as client:
        resp = await client.post("/api/v1/documents", data=invoice(buyer=STRANGER), headers=headers)
        doc_id = (await resp.json())["id"]
        for _ in range(300):
            status = await (await client.get(f"/api/v1/documents/{doc_id}", headers=headers)).json()
            if status["final"]:
                break
            await asyncio.sleep(0.02)
        metrics = await (await client.get("/metrics")).text()
        depth = await gw.store.outbox_depth()
    states = [e["state"] for e in status["history"]]
    assert states[:2] == ["received", "routed"]
    assert states[-1] == "failed"
    assert states.count("attempt_failed") >= 2, "it retried before giving up"
    last = status["history"][-1]
    assert last["reason"].startswith("gave up retrying after")
    assert last["details"]["attempts"] == states.count("attempt_failed") + 1
    assert "silent" in json.dumps(status["history"][1]["details"])
    assert 'gateway_documents_failed_total{route="peer"} 1.0' in metrics
    assert depth == 0, "a dead letter leaves the outbox"
