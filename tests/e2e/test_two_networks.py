"""Two gateways as separate processes on loopback, peers of each other."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.cli.scaffold import gln
from tests.builders import as_foreign_consumer, attach, invoice
from tests.support import Network, free_port, gateway_cli, make_network

pytestmark = pytest.mark.slow

ALPHA_SELLER = f"0088:{gln('5710000001')}"
ALPHA_BUYER = f"0088:{gln('5710000002')}"
BETA_BUYER = f"0088:{gln('5720000001')}"
NOBODY = f"0088:{gln('5790000009')}"


def canonical(xml: bytes) -> bytes:
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False)  # our own test data
    return bytes(etree.tostring(etree.fromstring(xml, parser), method="c14n"))


def _local_history_when_final(net: Network, doc_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        out = gateway_cli("status", doc_id, "--local", "--config", str(net.config), "--json")
        answer = json.loads(out.stdout)
        if answer["final"] or time.monotonic() > deadline:
            return list(answer["history"])
        time.sleep(0.1)


@pytest.fixture
def networks(tmp_path: Path) -> Iterator[tuple[Network, Network]]:
    alpha = make_network(tmp_path, "alpha", participants=[ALPHA_SELLER, ALPHA_BUYER])
    beta = make_network(
        tmp_path, "beta", participants=[BETA_BUYER], ca_dir=alpha.directory / "certs"
    )
    alpha.peer_with(beta)
    beta.peer_with(alpha)
    for n in (alpha, beta):
        n.set_delivery(
            initial_backoff_seconds=0.2,
            max_backoff_seconds=1,
            timeout_seconds=5,
            lease_seconds=10,
            poll_seconds=0.1,
            # A peer that is down opens its circuit: probe again soon.
            breaker_open_seconds=1,
        )
    yield alpha, beta
    alpha.stop()
    beta.stop()


def test_invoice_crosses_to_peer_network_with_receipt(networks: tuple[Network, Network]) -> None:
    """An invoice to a peer network's participant is delivered with a receipt, lands unchanged
    (as canonical XML) in the peer's inbox, and the peer's own history names the sender and
    message id."""
    alpha, beta = networks
    beta.start()
    alpha.start()
    body = invoice("INV-X-1", seller=ALPHA_SELLER, buyer=BETA_BUYER)
    code, answer = alpha.submit(body)
    assert code == 202, answer
    final = alpha.wait_final(answer["id"])

    states = [e["state"] for e in final["history"]]
    assert states == ["received", "routed", "delivered"]
    routed, delivered = final["history"][1], final["history"][2]
    assert routed["details"]["route"] == "peer" and routed["details"]["target"] == "beta"
    assert delivered["details"]["network"] == "beta"
    assert delivered["details"]["receipt_id"]

    # Beta kept the same document in its participant's inbox (the SBDH
    # carries it as XML, so it is equal as canonical XML, not byte for byte) ...
    files = beta.wait_inbox(1)
    assert len(files) == 1 and canonical(files[0].read_bytes()) == canonical(body)
    # ... and its own history tells the receiving side of the story.
    beta_id = files[0].stem
    history = _local_history_when_final(beta, beta_id)
    assert [e["state"] for e in history] == ["received", "routed", "delivered"]
    assert history[0]["details"]["from_network"] == "alpha"
    assert history[0]["details"]["message_id"] == delivered["details"]["message_id"]


def test_local_recipient_and_recipients_in_no_network(networks: tuple[Network, Network]) -> None:
    """An invoice to our own participant is delivered to the inbox, a foreign consumer in no
    network is printed (listed in the manifest), and a French company in no network is refused
    under the mandate, not printed."""
    alpha, beta = networks
    beta.start()  # its SMP must answer "not registered" before alpha may print
    alpha.start()
    code, local = alpha.submit(invoice("INV-L-1", seller=ALPHA_SELLER, buyer=ALPHA_BUYER))
    assert code == 202
    consumer = as_foreign_consumer(invoice("INV-P-1", seller=ALPHA_SELLER, buyer=NOBODY))
    code, paper = alpha.submit(consumer)
    assert code == 202, paper
    code, mandated = alpha.submit(invoice("INV-M-1", seller=ALPHA_SELLER, buyer=NOBODY))
    assert code == 202

    local_final = alpha.wait_final(local["id"])
    assert local_final["status"] == "delivered"
    assert [f.stem for f in alpha.inbox_files()] == [local["id"]]

    paper_final = alpha.wait_final(paper["id"])
    assert paper_final["status"] == "printed"
    assert "not a registered business" in paper_final["history"][1]["reason"]
    batch = paper_final["history"][-1]["details"]["batch"]
    manifest = (alpha.directory / "print" / batch / "manifest.csv").read_text()
    assert paper["id"] in manifest and NOBODY in manifest

    # A French company writing to a French company in no network: paper is not allowed.
    refused = alpha.wait_final(mandated["id"])
    assert refused["status"] == "refused"
    routed = refused["history"][1]["details"]
    assert routed["route"] == "refuse" and routed.get("prospect") is True
    assert "paper not allowed" in refused["history"][-1]["reason"]
    assert mandated["id"] not in manifest


def test_peer_down_then_up_is_retried_until_delivered(networks: tuple[Network, Network]) -> None:
    """Deliveries to a peer that is down record failed attempts with a cause and are delivered
    once it is up; `send --wait` that ends first exits 3 saying it is not final yet."""
    alpha, beta = networks
    alpha.start()
    code, answer = alpha.submit(invoice("INV-R-1", seller=ALPHA_SELLER, buyer=BETA_BUYER))
    assert code == 202
    deadline = time.monotonic() + 20
    while "attempt_failed" not in [e["state"] for e in alpha.status(answer["id"])["history"]]:
        assert time.monotonic() < deadline, "no failed attempt recorded while beta was down"
        time.sleep(0.1)
    # `send --wait` that ends before a final state says so, with an exit code of its own.
    second = alpha.directory / "INV-R-2.xml"
    second.write_bytes(invoice("INV-R-2", seller=ALPHA_SELLER, buyer=BETA_BUYER))
    waited = gateway_cli(
        "send", str(second), "--config", str(alpha.config), "--wait", "1", check=False
    )
    assert waited.returncode == 3, waited.stderr
    assert "not final yet" in waited.stderr and "gateway status" in waited.stderr
    second_id = waited.stdout.splitlines()[0]
    beta.start()
    assert alpha.wait_final(second_id)["status"] == "delivered"
    final = alpha.wait_final(answer["id"])
    assert final["status"] == "delivered"
    failed = [e for e in final["history"] if e["state"] == "attempt_failed"]
    assert failed and "cause" in failed[0]["details"]
    assert len(beta.wait_inbox(2)) == 2


def test_kill_minus_9_with_pending_deliveries_delivers_each_exactly_once(
    networks: tuple[Network, Network],
) -> None:
    """After kill -9 of a gateway mid-delivery and a restart, each of 20 pending invoices reaches
    the peer exactly once."""
    alpha, beta = networks
    alpha.start()  # beta is down: every delivery stays pending
    ids = []
    for i in range(20):
        code, answer = alpha.submit(invoice(f"INV-K-{i}", seller=ALPHA_SELLER, buyer=BETA_BUYER))
        assert code == 202
        ids.append(answer["id"])
    beta.start()
    time.sleep(0.3)  # let some deliveries happen, others be in flight
    alpha.kill9()
    alpha.start()
    for doc_id in ids:
        assert alpha.wait_final(doc_id, timeout=60)["status"] == "delivered"
    files = beta.wait_inbox(20)
    time.sleep(0.5)  # a duplicate, if any, would land now
    files = beta.inbox_files()
    assert len(files) == 20, "each document reaches beta exactly once"
    numbers = sorted(f.read_bytes().split(b"<cbc:ID>INV-K-")[1].split(b"<")[0] for f in files)
    assert numbers == sorted(str(i).encode() for i in range(20))


def test_two_processes_sharing_redis_deliver_each_document_once(tmp_path: Path) -> None:
    """Two processes of one network sharing a Redis store each answer for all documents, and each
    of 30 documents is delivered to the peer once."""
    import shutil
    import uuid

    import redis

    prefix = f"e2e{uuid.uuid4().hex[:10]}"
    beta = make_network(tmp_path, "beta", participants=[BETA_BUYER])
    one = make_network(
        tmp_path, "alpha", participants=[ALPHA_SELLER], ca_dir=beta.directory / "certs"
    )
    text = one.config.read_text().replace(
        'path = "store.db"', f'url = "redis://127.0.0.1:6379/0"\nprefix = "{prefix}"'
    )
    one.config.write_text(
        text.replace('inbox_dir = "inbox"', f'inbox_dir = "{tmp_path / "inbox"}"')
    )
    one.peer_with(beta)
    beta.peer_with(one)
    # A second process of the same network: same config and store, another port.
    two_dir = tmp_path / "alpha-2"
    shutil.copytree(one.directory, two_dir)
    two = Network("alpha-2", two_dir, free_port(), [ALPHA_SELLER])
    two.config.write_text(
        one.config.read_text().replace(f"listen_port = {one.port}", f"listen_port = {two.port}")
    )
    nets = (beta, one, two)
    try:
        for n in nets:
            n.start()
        ids = []
        for i in range(30):
            via = one if i % 2 else two
            code, answer = via.submit(invoice(f"INV-S-{i}", seller=ALPHA_SELLER, buyer=BETA_BUYER))
            assert code == 202, answer
            ids.append(answer["id"])
        for doc_id in ids:  # either process answers for documents of both
            assert one.wait_final(doc_id)["status"] == "delivered"
            assert two.status(doc_id)["status"] == "delivered"
        beta.wait_inbox(30)
        time.sleep(0.5)
        assert len(beta.inbox_files()) == 30, "no document delivered twice"
    finally:
        for n in nets:
            n.stop()
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def test_two_worker_processes_on_one_port(networks: tuple[Network, Network]) -> None:
    """With workers = 2, two processes serve one port, each of 16 documents is delivered once,
    and both workers exit when the gateway stops."""
    import subprocess

    alpha, beta = networks
    text = alpha.config.read_text().replace("[network]\n", "[network]\nworkers = 2\n", 1)
    alpha.config.write_text(text)
    beta.start()
    alpha.start()
    assert alpha.proc is not None
    children = subprocess.run(
        ["pgrep", "-P", str(alpha.proc.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(children) >= 2, "two worker processes serve the port"
    ids = []
    for i in range(16):
        code, answer = alpha.submit(invoice(f"INV-W-{i}", seller=ALPHA_SELLER, buyer=BETA_BUYER))
        assert code == 202, answer
        ids.append(answer["id"])
    for doc_id in ids:  # either process answers for any document
        assert alpha.wait_final(doc_id)["status"] == "delivered"
    beta.wait_inbox(16)
    time.sleep(0.5)
    assert len(beta.inbox_files()) == 16, "each document delivered once"
    alpha.stop()
    deadline = time.monotonic() + 10
    for pid in children:
        while subprocess.run(["kill", "-0", pid], capture_output=True, check=False).returncode == 0:
            assert time.monotonic() < deadline, f"worker {pid} outlived the gateway"
            time.sleep(0.1)


def test_a_fifty_megabyte_invoice_crosses_to_the_peer(networks: tuple[Network, Network]) -> None:
    """A 50 MB invoice (with a raised size limit) is delivered to the peer and lands there
    unchanged as canonical XML."""

    alpha, beta = networks
    for n in (alpha, beta):
        text = n.config.read_text().replace("[limits]\n", "")
        n.config.write_text(text + "\n[limits]\nmax_document_bytes = 67108864\n")
    # 50 MB is sealed, sent and checked within one request: the fixture's 5 s
    # timeout (there to make retries quick) is too short on a busy machine.
    alpha.set_delivery(timeout_seconds=120, lease_seconds=240)
    beta.start()
    alpha.start()
    body = attach(invoice("INV-BIG-1", seller=ALPHA_SELLER, buyer=BETA_BUYER), 50 * 1024 * 1024)
    code, answer = alpha.submit(body)
    assert code == 202, answer
    final = alpha.wait_final(answer["id"], timeout=120)
    assert final["status"] == "delivered", final["history"]
    (received,) = beta.wait_inbox(1, timeout=60)
    assert canonical(received.read_bytes()) == canonical(body)
