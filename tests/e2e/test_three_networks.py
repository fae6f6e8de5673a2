"""Three networks as separate processes: A and B interconnected, C not.

The routing issue's acceptance scenario, end to end through the real entry
points: the config file, `gateway agreements add`, `gateway partners import`,
the sender API, AS4 between processes, `gateway route --explain`, and
`gateway settlement`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli.scaffold import gln
from tests.builders import as_foreign_consumer, invoice
from tests.support import Network, gateway_cli, make_network

pytestmark = pytest.mark.slow

A_SELLER = f"0088:{gln('5760000001')}"
B_BUYER = f"0088:{gln('5770000001')}"
C_BUYER = f"0088:{gln('5780000001')}"
FR_COMPANY = f"0088:{gln('5790000011')}"  # a French company in no network
CONSUMER = f"0088:{gln('5790000012')}"


@pytest.fixture
def nets(tmp_path: Path) -> Iterator[tuple[Network, Network, Network]]:
    a = make_network(tmp_path, "alpha", participants=[A_SELLER])
    b = make_network(tmp_path, "beta", participants=[B_BUYER], ca_dir=a.directory / "certs")
    c = make_network(tmp_path, "gamma", participants=[C_BUYER], ca_dir=a.directory / "certs")
    for me, other in ((a, b), (b, a)):
        info = tmp_path / f"{other.name}.json"
        info.write_text(json.dumps(other.info()))
        gateway_cli(
            "agreements",
            "add",
            "--config",
            str(me.config),
            "--peer-info",
            str(info),
            "--id",
            "AB-2026",
            "--fee",
            "0.10",
            "--payer",
            "sender",
            "--monthly-free",
            "1",
        )
    # Alpha's directory knows where gamma's participant is, but there is no agreement.
    partners = tmp_path / "partners.csv"
    partners.write_text(
        "id,name,network,document_types,reception,email,address,country\n"
        f"{C_BUYER},Gamma Buyer SA,gamma,,network,,,FR\n"
    )
    gateway_cli("partners", "import", str(partners), "--config", str(a.config))
    # Alpha validates in the serving process, the others in their pools (the
    # default): both paths, through the API and the AS4 receive path.
    a.config.write_text(a.config.read_text().replace('processes = "auto"', "processes = 0", 1))
    for n in (a, b, c):
        n.set_delivery(
            initial_backoff_seconds=0.2,
            max_backoff_seconds=1,
            timeout_seconds=5,
            lease_seconds=10,
            poll_seconds=0.1,
            # A peer that is down opens its circuit: probe again soon.
            breaker_open_seconds=1,
        )
    yield a, b, c
    for n in (a, b, c):
        n.stop()


def _explain(net: Network, tmp: Path, body: bytes) -> str:
    f = tmp / "doc.xml"
    f.write_bytes(body)
    return gateway_cli(
        "route", str(f), "--config", str(net.config), "--explain", check=False
    ).stdout


def test_routes_refusals_print_and_settlement(
    nets: tuple[Network, Network, Network], tmp_path: Path
) -> None:
    """Across three gateway processes: invoices to the agreed peer are delivered under the
    agreement, to a network without one and to a mandated French company refused, to a foreign
    consumer printed; `route --explain` says the same; traffic both ways is settled by the fees."""
    a, b, c = nets
    for n in (b, c, a):
        n.start()
    to_b = invoice("INV-AB-1", seller=A_SELLER, buyer=B_BUYER)
    to_c = invoice("INV-AC-1", seller=A_SELLER, buyer=C_BUYER)
    to_fr = invoice("INV-AF-1", seller=A_SELLER, buyer=FR_COMPANY)
    to_consumer = as_foreign_consumer(invoice("INV-AX-1", seller=A_SELLER, buyer=CONSUMER))
    ids = {}
    to_b2 = invoice("INV-AB-2", seller=A_SELLER, buyer=B_BUYER)
    for name, body in (
        ("b", to_b),
        ("b2", to_b2),
        ("c", to_c),
        ("fr", to_fr),
        ("consumer", to_consumer),
    ):
        code, answer = a.submit(body)
        assert code == 202, answer
        ids[name] = answer["id"]

    assert a.wait_final(ids["b2"])["status"] == "delivered"
    delivered = a.wait_final(ids["b"])
    assert delivered["status"] == "delivered"
    assert delivered["history"][-1]["details"]["network"] == "beta"
    assert delivered["history"][1]["details"]["agreement"] == "AB-2026"

    refused = a.wait_final(ids["c"])
    assert refused["status"] == "refused"
    assert "network gamma has no agreement with us" in refused["history"][-1]["reason"]

    paper_refused = a.wait_final(ids["fr"])
    assert paper_refused["status"] == "refused"
    assert "paper not allowed" in paper_refused["history"][-1]["reason"]
    prospect = json.loads(
        gateway_cli("partners", "show", FR_COMPANY, "--config", str(a.config), "--json").stdout
    )
    assert prospect["network"] == "" and prospect["name"] == "Maison Verlaine Hotellerie SARL"

    printed = a.wait_final(ids["consumer"])
    assert printed["status"] == "printed"
    batch = printed["history"][-1]["details"]["batch"]
    assert (a.directory / "print" / batch / f"{ids['consumer']}.pdf").read_bytes()[:4] == b"%PDF"

    # `gateway route --explain` tells the same story, without sending anything.
    assert "peer beta" in _explain(a, tmp_path, to_b)
    assert "network gamma has no agreement with us" in _explain(a, tmp_path, to_c)
    assert "paper not allowed" in _explain(a, tmp_path, to_fr)
    assert "print paper" in _explain(a, tmp_path, to_consumer)

    # Beta answers with an invoice of its own: traffic both ways under the agreement.
    code, back = b.submit(invoice("INV-BA-1", seller=B_BUYER, buyer=A_SELLER))
    assert code == 202, back
    assert b.wait_final(back["id"])["status"] == "delivered"
    b.wait_inbox(1)
    deadline = time.monotonic() + 20
    while not a.inbox_files():
        assert time.monotonic() < deadline, "beta's invoice never reached alpha's participant"
        time.sleep(0.1)

    month = datetime.now(UTC).strftime("%Y-%m")
    rows = json.loads(
        gateway_cli("settlement", "--month", month, "--config", str(a.config), "--json").stdout
    )
    ab = next(r for r in rows if r["agreement"] == "AB-2026")
    counts = {d["way"]: d["count"] for d in ab["documents"]}
    assert counts == {"send": 2, "receive": 1}
    # The sending network pays 0.10 a document beyond one free a month each way:
    # we owe 0.10 for the second invoice we sent; beta's one invoice was free.
    fees = {f["way"]: (f["amount"], f["payer"]) for f in ab["fees"]}
    assert fees == {"send": ("0.10", "us"), "receive": ("0.00", "beta")}
    assert ab["balance"] == "we owe beta 0.10 EUR"
    assert not any(r["peer"] == "gamma" for r in rows), "nothing was exchanged with gamma"
    text = gateway_cli("settlement", "--month", month, "--config", str(a.config)).stdout
    assert "agreement AB-2026 with beta" in text
