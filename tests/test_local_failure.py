"""A delivery that fails on our side, before anything was sent, says so: its
reason never blames the recipient's network, which never saw the message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.errors import TransportError
from gateway.server.app import make_app, running
from gateway.service.delivery import _failure_reason
from tests.conftest import STRANGER, invoice

# A peer without a pinned certificate: AS4 messages are encrypted to the
# peer's certificate, so ours cannot even be built.
PEER_WITHOUT_CERTIFICATE = f"""
[[peers]]
name = "gamma"
provider_id = "PGAMMA"
endpoint = "http://127.0.0.1:9/as4"
participants = ["{STRANGER}"]
[peers.agreement]
id = "AG-1"
direction = "both"
"""


async def test_a_local_packaging_failure_does_not_blame_the_peer(
    network_dir: tuple[Path, str],
) -> None:
    """A delivery that fails because the peer has no configured certificate fails permanently
    with "not sent: a problem on our side", naming the missing certificate, never the recipient."""
    cfg, token = network_dir
    cfg.write_text(cfg.read_text() + PEER_WITHOUT_CERTIFICATE)
    async with running(loader.load(cfg)) as gw:
        client = TestClient(TestServer(make_app(gw)))
        await client.start_server()
        try:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
            resp = await client.post(
                "/api/v1/documents", data=invoice("INV-LOCAL", buyer=STRANGER), headers=headers
            )
            assert resp.status == 202, await resp.text()
            location = (await resp.json())["location"]
            for _ in range(500):
                status = await (await client.get(location, headers=headers)).json()
                if status["final"]:
                    break
                await asyncio.sleep(0.02)
        finally:
            await client.close()
    failed = status["history"][-1]
    assert failed["state"] == "failed", status
    assert "has no certificate configured" in failed["reason"]
    assert "recipient's network" not in failed["reason"]
    assert failed["reason"].startswith("not sent: a problem on our side")
    assert failed["details"]["permanent"] is True


def test_only_the_peers_own_refusal_is_put_on_the_peer() -> None:
    """Only a refusal from the peer reads "refused by the recipient's network"; a local permanent
    error reads "not sent", and a transient one "gave up retrying"."""
    refused = TransportError("peer said no", permanent=True, from_peer=True)
    assert _failure_reason(refused) == "refused by the recipient's network"
    assert _failure_reason(TransportError("cannot package", permanent=True)).startswith("not sent")
    assert _failure_reason(TransportError("timeout")) == "gave up retrying"
