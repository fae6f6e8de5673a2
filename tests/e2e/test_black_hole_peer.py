"""A peer that accepts TCP and never answers must not delay anyone else.

Real gateway processes on loopback: alpha delivers to its own participants
(local inbox) and to peer network beta, whose port is first held by a raw
TCP "black hole" and later by beta's real gateway.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.scaffold import gln
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from tests.support import Network, http, make_network

pytestmark = pytest.mark.slow

ALPHA_SELLER = f"0088:{gln('5710000001')}"
ALPHA_BUYER = f"0088:{gln('5710000002')}"
BETA_BUYER = f"0088:{gln('5720000001')}"


class BlackHole:
    """Accepts connections on a loopback port, reads what comes, answers nothing."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.setblocking(False)
            self.accepted.append(conn)
            for c in list(self.accepted):  # drain, so senders never block on a full buffer
                try:
                    while c.recv(65536):
                        pass
                except (BlockingIOError, OSError):
                    pass

    def wait_connections(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            assert time.monotonic() < deadline, f"only {len(self.accepted)} connections"
            time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for c in self.accepted:
            c.close()
        self.listener.close()


def invoice(buyer: str, number: str) -> bytes:
    return sample_document(
        DocumentKind.INVOICE,
        seller=ParticipantId.parse(ALPHA_SELLER),
        buyer=ParticipantId.parse(buyer),
        business_id=number,
    )


def metric(net: Network, name: str, peer: str) -> float | None:
    _, text = http("GET", net.url + "/metrics")
    found = re.search(rf'^{name}{{peer="{peer}"}} (\S+)$', text.decode(), re.M)
    return float(found.group(1)) if found else None


def wait_metric(net: Network, name: str, peer: str, value: float, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while metric(net, name, peer) != value:
        assert time.monotonic() < deadline, f"{name} is {metric(net, name, peer)}, not {value}"
        time.sleep(0.05)


def states(net: Network, doc_id: str) -> list[str]:
    return [e["state"] for e in net.status(doc_id)["history"]]


def circuit_log(net: Network) -> list[str]:
    found = []
    for line in net.log_path.read_text().splitlines():
        if '"peer.circuit"' in line:
            found.append(json.loads(line)["state"])
    return found


def _wait(event: dict[str, Any]) -> str | None:
    """What a deferred event waited for: a free slot, or the circuit (open or probing)."""
    if event["state"] != "deferred":
        return None
    return "slot" if event["details"]["cause"] == "busy" else "circuit"


@pytest.fixture
def networks(tmp_path: Path) -> Iterator[tuple[Network, Network]]:
    alpha = make_network(tmp_path, "alpha", participants=[ALPHA_SELLER, ALPHA_BUYER])
    beta = make_network(
        tmp_path, "beta", participants=[BETA_BUYER], ca_dir=alpha.directory / "certs"
    )
    alpha.peer_with(beta)
    beta.peer_with(alpha)
    alpha.set_delivery(
        concurrency=3,
        per_peer_concurrency=2,
        breaker_failures=2,
        breaker_open_seconds=1,
        timeout_seconds=8,
        lease_seconds=20,
        poll_seconds=0.05,
        initial_backoff_seconds=0.1,
        max_backoff_seconds=0.3,
    )
    yield alpha, beta
    alpha.stop()
    beta.stop()


def test_black_hole_peer_neither_blocks_others_nor_stays_blocked(
    networks: tuple[Network, Network],
) -> None:
    """While a peer's port accepts and never answers, local deliveries still complete and only
    the peer's two slots hang; their timeouts open its circuit; once the real peer is up all four
    are delivered, the circuit closes, and each wait is recorded once."""
    alpha, beta = networks
    hole = BlackHole(beta.port)
    try:
        alpha.start()
        # More documents to the black hole than alpha has delivery slots.
        held = [alpha.submit(invoice(BETA_BUYER, f"HOLE-{i}"))[1]["id"] for i in range(4)]
        hole.wait_connections(2)
        local = [alpha.submit(invoice(ALPHA_BUYER, f"LOCAL-{i}"))[1]["id"] for i in range(3)]
        for doc_id in local:
            assert alpha.wait_final(doc_id)["status"] == "delivered"
        # The black-hole deliveries are still hanging: none has ended, only two hold slots.
        hanging: dict[str, Any] = {d: states(alpha, d) for d in held}
        assert all("attempt_failed" not in s for s in hanging.values()), hanging
        assert sum("deferred" in s for s in hanging.values()) >= 2, hanging
        assert metric(alpha, "gateway_peer_in_flight", "beta") == 2
        assert len(hole.accepted) == 2

        # Both hanging attempts time out: two failures in a row open the circuit.
        wait_metric(alpha, "gateway_peer_circuit_state", "beta", 1)
    finally:
        hole.close()
    beta.start()  # the peer recovers on the same port
    for doc_id in held:
        assert alpha.wait_final(doc_id, timeout=60)["status"] == "delivered"
    assert metric(alpha, "gateway_peer_circuit_state", "beta") == 0
    assert metric(alpha, "gateway_peer_in_flight", "beta") == 0
    assert len(beta.wait_inbox(4)) == 4
    # Opened by the failures, closed by a probe that went through.
    log = circuit_log(alpha)
    assert log[0] == "open" and log[-1] == "closed", log
    histories = {d: alpha.status(d)["history"] for d in held}
    causes = [e.get("details", {}).get("cause") for h in histories.values() for e in h]
    assert "open" in causes, histories  # they waited for the circuit without attempts
    for history in histories.values():  # a long wait is told once, not at every look
        waits = [_wait(e) for e in history]
        assert all(a is None or a != b for a, b in itertools.pairwise(waits)), waits
