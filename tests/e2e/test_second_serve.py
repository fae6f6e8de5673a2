"""A second `gateway serve` on a running gateway's configuration stops with
one line, before it touches the store: the running gateway's leases stay
its own, so no delivery is sent twice at once."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli.scaffold import gln
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from tests.support import Network, make_network

pytestmark = pytest.mark.slow

SELLER = f"0088:{gln('5710000011')}"
BETA_BUYER = f"0088:{gln('5720000011')}"


def _leases(net: Network) -> list[tuple[str, str | None, int | None]]:
    # With lease_until: a lease released and claimed again (a second delivery
    # of the same job at once, even by the same worker) shows a new time.
    uri = f"file:{net.directory / 'store.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        return list(
            conn.execute("SELECT job_id, lease_owner, lease_until FROM outbox ORDER BY job_id")
        )


def _serve_again(net: Network) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(net.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def alpha_delivering(tmp_path: Path) -> Iterator[Network]:
    """A running gateway in the middle of a delivery to a peer that accepts
    the connection and never answers: the job stays leased."""
    alpha = make_network(tmp_path, "alpha", participants=[SELLER])
    beta = make_network(
        tmp_path, "beta", participants=[BETA_BUYER], ca_dir=alpha.directory / "certs"
    )
    alpha.peer_with(beta)
    alpha.set_delivery(timeout_seconds=120, lease_seconds=300, poll_seconds=0.1)
    silent_peer = socket.socket()
    silent_peer.bind(("127.0.0.1", beta.port))
    silent_peer.listen(16)
    alpha.start()
    try:
        body = sample_document(
            DocumentKind.INVOICE,
            seller=ParticipantId.parse(SELLER),
            buyer=ParticipantId.parse(BETA_BUYER),
            business_id="INV-LEASE-1",
        )
        code, answer = alpha.submit(body)
        assert code == 202, answer
        deadline = time.monotonic() + 20
        while not any(owner for _, owner, _ in _leases(alpha)):
            assert time.monotonic() < deadline, "the delivery was never leased"
            time.sleep(0.05)
        yield alpha
    finally:
        silent_peer.close()  # the hanging delivery fails now, so alpha stops soon
        alpha.stop()


def test_a_second_serve_on_the_same_store_exits_with_one_line_and_leaves_the_leases(
    alpha_delivering: Network,
) -> None:
    """A second `gateway serve` on a running gateway's config exits non-zero with one line naming
    the store lock, and the running gateway keeps its delivery lease and keeps running."""
    alpha = alpha_delivering
    held = _leases(alpha)

    second = _serve_again(alpha)

    assert second.returncode != 0
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert "already served" in lines[0] and "store.db.lock" in lines[0]
    assert _leases(alpha) == held, "the running gateway's lease was released"
    assert alpha.proc is not None and alpha.proc.poll() is None


def test_serve_on_a_busy_port_names_the_port_and_opens_no_store(tmp_path: Path) -> None:
    """`gateway serve` on a port already taken exits non-zero with one line naming the address,
    and creates no store file."""
    net = make_network(tmp_path, "gamma", participants=[SELLER])
    store = net.directory / "store.db"
    store.unlink(missing_ok=True)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", net.port))
        squatter.listen(1)

        second = _serve_again(net)

    assert second.returncode != 0
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"127.0.0.1:{net.port}" in lines[0]
    assert not store.exists(), "the store was opened by a process that could not serve"
