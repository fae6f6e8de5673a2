"""A document the recipient's network refuses ends `refused`, not `failed`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli.scaffold import gln
from tests.builders import invoice
from tests.support import Network, http, make_network

SELLER = f"0088:{gln('5730000101')}"
BUYER = f"0088:{gln('5740000101')}"


@pytest.fixture
def send_only_peer(tmp_path: Path) -> Iterator[tuple[Network, Network]]:
    """Alpha may send to beta; beta's agreement with alpha only lets beta send."""
    alpha = make_network(tmp_path, "alpha", participants=[SELLER])
    beta = make_network(tmp_path, "beta", participants=[BUYER], ca_dir=alpha.directory / "certs")
    alpha.peer_with(beta)
    beta.peer_with(alpha, direction="send")
    alpha.set_delivery(timeout_seconds=5, poll_seconds=0.1, initial_backoff_seconds=0.2)
    yield alpha, beta
    alpha.stop()
    beta.stop()


def test_a_peer_refusal_ends_refused_with_the_peers_reason(
    send_only_peer: tuple[Network, Network],
) -> None:
    """An invoice the peer refuses under its agreement (a signed permanent ebMS error) ends in
    the final state `refused`, at the first attempt, with a reason naming the recipient's
    network; it is not retried, and it is not counted as a dead letter."""
    alpha, beta = send_only_peer
    beta.start()
    alpha.start()
    code, answer = alpha.submit(invoice("INV-NO-1", seller=SELLER, buyer=BUYER))
    assert code == 202, answer
    final = alpha.wait_final(answer["id"])

    assert final["status"] == "refused", final["history"]
    assert [e["state"] for e in final["history"]] == ["received", "routed", "refused"]
    last = final["history"][-1]
    assert last["reason"].startswith("refused by the recipient's network after 1 attempt(s)")
    assert last["details"]["permanent"] is True
    _, raw = http("GET", alpha.url + "/metrics")
    metrics = raw.decode()
    assert 'gateway_documents_refused_total{route="peer"} 1.0' in metrics
    assert 'gateway_documents_failed_total{route="peer"}' not in metrics
