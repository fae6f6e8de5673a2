from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway import config, routing
from gateway.backoff import next_attempt
from gateway.config import Agreement, DeliverySettings, Peer
from gateway.model import Direction, ParticipantId, RouteKind
from tests.conftest import BUYER, STRANGER

T0 = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = DeliverySettings(
    initial_backoff_seconds=2, max_backoff_seconds=60, give_up_after_seconds=3600
)


@given(attempts=st.integers(1, 40), elapsed=st.floats(0, 3599), draw=st.floats(0, 0.999))
def test_backoff_stays_within_bounds(attempts: int, elapsed: float, draw: float) -> None:
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
    delays = [
        (next_attempt(n, first_attempt_at=T0, now=T0, policy=POLICY, draw=0.5) - T0).total_seconds()  # type: ignore[operator]
        for n in (1, 2, 3, 4, 10)
    ]
    assert delays == [1.5, 3.0, 6.0, 12.0, 45.0]
    late = T0 + timedelta(seconds=3600)
    assert next_attempt(5, first_attempt_at=T0, now=late, policy=POLICY, draw=0.5) is None


def _with_peer(cfg: Path, agreement: Agreement) -> config.Settings:
    s = config.load(cfg)
    peer = Peer("beta", "PBETA", "http://127.0.0.1:9/as4", None, (STRANGER,), agreement)
    return replace(s, peers=(peer,))


def _decide(
    s: config.Settings, who: ParticipantId, today: date = date(2026, 11, 29)
) -> routing.RouteDecision:
    return routing.decide(
        s, recipient=who, document_type="doc", direction=Direction.OUTBOUND, today=today
    )


def test_routes_and_reasons(network_dir: tuple[Path, str]) -> None:
    cfg, _ = network_dir
    s = _with_peer(cfg, Agreement())
    local = _decide(s, BUYER)
    assert local.kind is RouteKind.LOCAL and "participant of this network" in local.reasons[0]
    peer = _decide(s, STRANGER)
    assert peer.kind is RouteKind.PEER and peer.target == "beta"
    nobody = _decide(s, ParticipantId.parse("0088:0000000000017"))
    assert nobody.kind is RouteKind.PRINT and "no known network" in nobody.reasons[0]


def test_agreement_terms_refuse_with_reason(network_dir: tuple[Path, str]) -> None:
    cfg, _ = network_dir
    expired = _with_peer(cfg, Agreement(valid_until=date(2026, 1, 1)))
    d = _decide(expired, STRANGER)
    assert d.kind is RouteKind.REFUSE and "expired on 2026-01-01" in d.reasons[-1]
    receive_only = _with_peer(cfg, Agreement(direction="receive"))
    assert "only allows receiving" in _decide(receive_only, STRANGER).reasons[-1]
    other_type = _with_peer(cfg, Agreement(document_types=("other",)))
    assert "document type" in _decide(other_type, STRANGER).reasons[-1]
