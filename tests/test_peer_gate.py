"""An open circuit defers deliveries without attempting them, in process, on loopback."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.server.app import make_app, running
from tests.conftest import STRANGER, invoice
from tests.support import free_port


def _closed_port_peer(
    cfg: Path, provider_id: str = "PTESTNET", port: int = 0, **delivery: float
) -> None:
    """A peer whose port refuses connections; delivery settings as given.
    PTESTNET is the CN of certs/ap.pem, so attempts get as far as the port."""
    text = cfg.read_text()
    for key, value in delivery.items():
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith(f"{key} ="))
        text = text.replace("[delivery]", f"[delivery]\n{key} = {value}", 1)
    text += f"""
[[peers]]
name = "silent"
provider_id = "{provider_id}"
endpoint = "http://127.0.0.1:{port or free_port()}/as4"
certificate = "certs/ap.pem"
participants = ["{STRANGER}"]
"""
    cfg.write_text(text)


async def _final(client: TestClient, doc_id: str, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(500):
        status: dict[str, Any] = await (
            await client.get(f"/api/v1/documents/{doc_id}", headers=headers)
        ).json()
        if status["final"]:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"{doc_id} is not final: {status}")


async def test_open_circuit_defers_without_attempts_until_the_give_up_deadline(
    network_dir: tuple[Path, str],
) -> None:
    """Once a peer's circuit is open, a new document is deferred ("not answering") without any
    attempt and fails at the give-up deadline after 0 attempts; metrics count one real attempt."""
    cfg, token = network_dir
    _closed_port_peer(
        cfg,
        initial_backoff_seconds=0.05,
        max_backoff_seconds=0.1,
        give_up_after_seconds=1.5,
        timeout_seconds=0.5,
        lease_seconds=2,
        poll_seconds=0.02,
        breaker_failures=1,
        breaker_open_seconds=600,
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    async with running(loader.load(cfg)) as gw, TestClient(TestServer(make_app(gw))) as client:
        first = await client.post(
            "/api/v1/documents", data=invoice(buyer=STRANGER), headers=headers
        )
        first_id = (await first.json())["id"]
        for _ in range(500):  # one refused connection opens this peer's circuit
            if (
                'gateway_peer_circuit_state{peer="silent"} 1.0'
                in await (await client.get("/metrics")).text()
            ):
                break
            await asyncio.sleep(0.02)
        second = await client.post(
            "/api/v1/documents", data=invoice("INV-2", buyer=STRANGER), headers=headers
        )
        second_id = (await second.json())["id"]
        first_status = await _final(client, first_id, headers)
        second_status = await _final(client, second_id, headers)
        metrics = await (await client.get("/metrics")).text()
    states = [e["state"] for e in second_status["history"]]
    assert states == ["received", "deferred", "failed"], second_status["history"]
    deferred, failed = second_status["history"][1:]
    assert deferred["details"]["cause"] == "open"
    assert "peer silent is not answering (circuit open after 1 failed" in deferred["reason"]
    assert failed["reason"].startswith("gave up retrying after 0 attempt(s): peer silent")
    # The first document made the one real attempt; its retries were deferred, not attempts.
    first_states = [e["state"] for e in first_status["history"]]
    assert first_states.count("attempt_failed") == 1, first_status["history"]
    assert first_states[-2:] == ["deferred", "failed"]
    assert 'gateway_delivery_attempts_total{outcome="error",route="peer"} 1.0' in metrics
    assert 'gateway_delivery_deferred_total{cause="open",peer="silent"}' in metrics
    assert 'gateway_peer_in_flight{peer="silent"} 0.0' in metrics


async def test_a_problem_on_our_side_does_not_open_the_peers_circuit(
    network_dir: tuple[Path, str],
) -> None:
    """Deliveries failing on a certificate name mismatch (our configuration) are retried and fail
    without deferrals, and the peer's circuit stays closed."""
    cfg, token = network_dir
    # The pinned certificate is not the peer's (its CN is not PSILENT): our
    # configuration is wrong, the peer is not known to be down.
    _closed_port_peer(
        cfg,
        provider_id="PSILENT",
        initial_backoff_seconds=0.05,
        max_backoff_seconds=0.1,
        give_up_after_seconds=0.6,
        timeout_seconds=0.5,
        lease_seconds=2,
        poll_seconds=0.02,
        breaker_failures=1,
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    async with running(loader.load(cfg)) as gw, TestClient(TestServer(make_app(gw))) as client:
        resp = await client.post("/api/v1/documents", data=invoice(buyer=STRANGER), headers=headers)
        status = await _final(client, (await resp.json())["id"], headers)
        metrics = await (await client.get("/metrics")).text()
    states = [e["state"] for e in status["history"]]
    assert states.count("attempt_failed") >= 2 and "deferred" not in states, states
    assert "expected 'PSILENT'" in status["history"][-1]["reason"]
    assert 'gateway_peer_circuit_state{peer="silent"} 0.0' in metrics


async def test_a_peer_that_drops_connection_attempts_fails_at_the_connect_timeout(
    network_dir: tuple[Path, str],
) -> None:
    """An attempt to a peer whose connections are never accepted fails with "no connection within
    0.5 s", the connect timeout, not the longer request timeout."""
    cfg, token = network_dir
    # A listener with a full backlog: the kernel drops further SYNs, as a
    # firewall that black-holes the peer's address would.
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    filler = socket.create_connection(listener.getsockname())
    _closed_port_peer(
        cfg,
        port=listener.getsockname()[1],
        initial_backoff_seconds=60,
        max_backoff_seconds=60,
        timeout_seconds=20,
        connect_timeout_seconds=0.5,
        lease_seconds=30,
        poll_seconds=0.02,
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    try:
        async with running(loader.load(cfg)) as gw, TestClient(TestServer(make_app(gw))) as client:
            resp = await client.post(
                "/api/v1/documents", data=invoice(buyer=STRANGER), headers=headers
            )
            url = f"/api/v1/documents/{(await resp.json())['id']}"
            for _ in range(1500):
                history = (await (await client.get(url, headers=headers)).json())["history"]
                if history[-1]["state"] == "attempt_failed":
                    break
                await asyncio.sleep(0.02)
    finally:
        filler.close()
        listener.close()
    assert "no connection within 0.5 s" in history[-1]["reason"], history[-1]
