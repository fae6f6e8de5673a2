from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway.config import loader
from gateway.config import settings as config
from gateway.config.settings import DeliverySettings, Peer
from gateway.core.backoff import next_attempt
from gateway.model import Agreement, Direction, Mandate, RouteKind
from gateway.routing import decision as routing
from gateway.routing.decision import Location, RouteFacts
from tests.builders import STRANGER

T0 = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = DeliverySettings(
    initial_backoff_seconds=2, max_backoff_seconds=60, give_up_after_seconds=3600
)


@given(attempts=st.integers(1, 40), elapsed=st.floats(0, 3599), draw=st.floats(0, 0.999))
def test_backoff_stays_within_bounds(attempts: int, elapsed: float, draw: float) -> None:
    """For any attempt number and elapsed time, the next retry is never past the give-up deadline
    and, before it, waits between half and all of the capped exponential delay."""
    now = T0 + timedelta(seconds=elapsed)
    nxt = next_attempt(attempts, first_attempt_at=T0, now=now, policy=POLICY, draw=draw)
    assert nxt is not None
    delay = (nxt - now).total_seconds()
    ceiling = min(60, 2 * 2 ** (attempts - 1))
    deadline = T0 + timedelta(seconds=3600)
    assert nxt <= deadline
    if nxt < deadline:
        assert ceiling / 2 <= delay <= ceiling + 1e-6


def test_backoff_grows_then_gives_up() -> None:
    """Retry delays double from the initial backoff up to the cap (1.5, 3, 6, 12, 45 s at the
    midpoint draw), and once the give-up time is reached there is no next attempt."""
    delays = [
        (next_attempt(n, first_attempt_at=T0, now=T0, policy=POLICY, draw=0.5) - T0).total_seconds()  # type: ignore[operator]
        for n in (1, 2, 3, 4, 10)
    ]
    assert delays == [1.5, 3.0, 6.0, 12.0, 45.0]
    late = T0 + timedelta(seconds=3600)
    assert next_attempt(5, first_attempt_at=T0, now=late, policy=POLICY, draw=0.5) is None


OURS = "testnet"
TODAY = date(2026, 11, 29)
FR_B2B = RouteFacts("doc", 5000, seller_country="FR", buyer_country="FR", buyer_is_business=True)
MANDATE = Mandate("FR", "domestic-b2b", date(2026, 9, 1), "CGI art. 289 bis")


def _settings(cfg: Path, agreement: Agreement | None = None) -> config.Settings:
    s = loader.load(cfg)
    peers = ()
    if agreement is not None:
        peers = (Peer("beta", "PBETA", "http://127.0.0.1:9/as4", None, (STRANGER,), agreement),)
    return replace(s, peers=peers, mandates=(MANDATE,))


def _decide(
    s: config.Settings, where: Location, facts: RouteFacts = FR_B2B, today: date = TODAY
) -> routing.RouteDecision:
    return routing.decide(
        s,
        recipient=STRANGER,
        location=where,
        facts=facts,
        direction=Direction.OUTBOUND,
        today=today,
    )


def test_own_participants_by_their_reception_choice(network_dir: tuple[Path, str]) -> None:
    """Our own participant is delivered by its reception choice (portal; paper for a cross-border
    buyer), a list of modes is its waterfall in order, and under a mandate paper is left out of
    the waterfall (network delivery when paper was the only choice)."""
    s = _settings(network_dir[0])
    d = _decide(s, Location(OURS, "configuration", ("portal",)))
    assert d.kind is RouteKind.LOCAL and d.target == "portal" and d.channels == ("portal",)
    assert "participant of this network" in d.reasons[0]
    foreign = replace(FR_B2B, buyer_country="DE")
    paper = _decide(s, Location(OURS, "directory", ("paper",)), foreign)
    assert paper.kind is RouteKind.PRINT and paper.channels == ("paper",)
    waterfall = _decide(s, Location(OURS, "directory", ("email", "api", "paper")), foreign)
    assert waterfall.kind is RouteKind.LOCAL and waterfall.target == "email"
    assert waterfall.channels == ("email", "api", "paper")
    assert "email then api then paper" in waterfall.reasons[1]
    # Under a mandate, paper may not replace network delivery, even if chosen.
    forced = _decide(s, Location(OURS, "directory", ("paper",)))
    assert forced.kind is RouteKind.LOCAL and forced.channels == ("network",)
    assert "paper is left out" in forced.reasons[-1]
    trimmed = _decide(s, Location(OURS, "directory", ("email", "paper")))
    assert trimmed.channels == ("email",)


def test_peer_network_under_its_agreement(network_dir: tuple[Path, str]) -> None:
    """A recipient found in a peer's SMP routes to that peer under its agreement, and the reason
    says where it was found."""
    s = _settings(network_dir[0], Agreement(id="A-1"))
    d = _decide(s, Location("beta", "SMP of beta"))
    assert d.kind is RouteKind.PEER and d.target == "beta" and d.agreement == "A-1"
    assert "known from the SMP of beta" in d.reasons[0]


def test_network_without_agreement_is_refused(network_dir: tuple[Path, str]) -> None:
    """A recipient in a network we have no agreement with is refused with "network gamma has no
    agreement with us"."""
    s = _settings(network_dir[0], Agreement(id="A-1"))
    d = _decide(s, Location("gamma", "directory"))
    assert d.kind is RouteKind.REFUSE
    assert d.reasons[-1] == "network gamma has no agreement with us"


def test_agreement_terms_refuse_with_reason(network_dir: tuple[Path, str]) -> None:
    """A peer's agreement that is expired, not yet valid, receive-only, for other document types,
    too small for the document, or requiring a signature refuses the route, saying which."""
    cfg = network_dir[0]
    beta = Location("beta", "configuration")
    cases = [
        (Agreement(id="X", valid_until=date(2026, 1, 1)), "expired on 2026-01-01"),
        (Agreement(id="X", valid_from=date(2027, 1, 1)), "valid only from 2027-01-01"),
        (Agreement(id="X", direction="receive"), "only allows receiving"),
        (Agreement(id="X", document_types=("other",)), "does not cover this document type"),
        (Agreement(id="X", max_document_bytes=100), "larger than agreement X allows"),
        (Agreement(id="X", require_document_signature=True), "requires documents to carry"),
    ]
    for agreement, reason in cases:
        d = _decide(_settings(cfg, agreement), beta)
        assert d.kind is RouteKind.REFUSE, agreement
        assert reason in d.reasons[-1], (reason, d.reasons)


def test_nowhere_paper_unless_a_mandate_applies(network_dir: tuple[Path, str]) -> None:
    """A recipient in no network is refused (as a prospect) under the French B2B mandate, but
    printed before the mandate's start date, for a consumer, or for a cross-border buyer."""
    s = _settings(network_dir[0])
    nowhere = Location(None, "configuration and directory")
    refused = _decide(s, nowhere)
    assert refused.kind is RouteKind.REFUSE and refused.prospect
    assert "paper not allowed" in refused.reasons[1] and "FR since 2026-09-01" in refused.reasons[1]
    before = _decide(s, nowhere, today=date(2026, 8, 31))
    assert before.kind is RouteKind.PRINT
    consumer = _decide(s, nowhere, replace(FR_B2B, buyer_is_business=False))
    assert consumer.kind is RouteKind.PRINT and "not a registered business" in consumer.reasons[-1]
    foreign = _decide(s, nowhere, replace(FR_B2B, buyer_country="US"))
    assert foreign.kind is RouteKind.PRINT and "cross-border" in foreign.reasons[-1]
