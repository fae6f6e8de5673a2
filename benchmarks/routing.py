"""Time of one routing decision (the pure `routing.decide`), per kind of route.

A network with 200 participants, 20 peers with agreements and both mandates;
each case is decided 100,000 times. Run: .venv/bin/python -m benchmarks.routing
"""

from __future__ import annotations

import platform
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.cli.scaffold import gln, init_network
from gateway.config import loader
from gateway.config.settings import Participant, Peer
from gateway.model import Agreement, Direction, Mandate, ParticipantId
from gateway.routing.decision import Location, RouteFacts, decide

N = 100_000


def main(argv: list[str] | None = None) -> None:
    directory = Path(tempfile.mkdtemp(prefix="gw-route-bench-"))
    made = init_network(
        directory / "n", name="bench", port=8080, participants=[], now=datetime.now(UTC)
    )
    s = loader.load(made.config)
    own = tuple(Participant(ParticipantId("0088", gln(f"58{i:08d}")), f"P{i}") for i in range(200))
    peers = tuple(
        Peer(f"peer{i}", f"PP{i}", f"http://127.0.0.1:9/{i}", None, (), Agreement(id=f"A{i}"))
        for i in range(20)
    )
    mandates = (
        Mandate("FR", "domestic-b2b", date(2026, 9, 1)),
        Mandate("BE", "domestic-b2b", date(2026, 1, 1)),
    )
    s = replace(s, participants=own, peers=peers, mandates=mandates)
    facts = RouteFacts(
        "urn:doc", 8000, seller_country="FR", buyer_country="FR", buyer_is_business=True
    )
    consumer = replace(facts, buyer_is_business=False, buyer_country="GB")
    cases = {
        "own participant": (own[150].id, Location("bench", "configuration", "network"), facts),
        "peer network": (ParticipantId("0088", "1"), Location("peer19", "SMP of peer19"), facts),
        "no agreement": (ParticipantId("0088", "2"), Location("other", "directory"), facts),
        "paper refused (mandate)": (ParticipantId("0088", "3"), Location(None, "all"), facts),
        "print": (ParticipantId("0088", "4"), Location(None, "all"), consumer),
    }
    today = date(2026, 11, 29)
    for name, (pid, where, f) in cases.items():
        t0 = time.perf_counter()
        for _ in range(N):
            decide(
                s, recipient=pid, location=where, facts=f, direction=Direction.OUTBOUND, today=today
            )
        us = (time.perf_counter() - t0) / N * 1e6
        print(f"routing decide {name:<24} {us:.2f} us/decision  machine={platform.machine()}")


if __name__ == "__main__":
    main()
