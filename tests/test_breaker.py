"""The per-peer gate (gateway/core/breaker.py): slots and circuit breaker, with made-up times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.core.breaker import Circuit, Limits, Outcome, PeerGates, Refusal

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LIMITS = Limits(concurrency=2, failures=3, open_seconds=30)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail_times(gates: PeerGates, peer: str, n: int, now: datetime) -> None:
    for _ in range(n):
        admission = gates.admit(peer, LIMITS, now)
        assert admission.admitted
        gates.finish(admission, Outcome.FAILURE, LIMITS, now)


def test_a_peer_gets_only_its_own_slots_and_others_are_not_affected() -> None:
    """A peer's deliveries beyond its concurrency are refused as busy while another peer still
    gets slots, and a freed slot can be taken again."""
    gates = PeerGates()
    held = [gates.admit("slow", LIMITS, T0) for _ in range(2)]
    assert all(a.admitted for a in held)
    third = gates.admit("slow", LIMITS, T0)
    assert third.refusal is Refusal.BUSY
    assert gates.admit("other", LIMITS, T0).admitted, "another peer has slots of its own"
    gates.finish(held[0], Outcome.SUCCESS, LIMITS, at(1))
    assert gates.admit("slow", LIMITS, at(1)).admitted, "a freed slot is usable again"
    assert gates.state("slow") == (Circuit.CLOSED, 2)


def test_consecutive_failures_open_the_circuit_and_a_success_resets_the_count() -> None:
    """Only failures in a row count: a success resets the run, and the third consecutive failure
    opens the circuit, refusing deliveries until the open period ends."""
    gates = PeerGates()
    fail_times(gates, "p", 2, T0)
    ok = gates.admit("p", LIMITS, T0)
    gates.finish(ok, Outcome.SUCCESS, LIMITS, T0)
    fail_times(gates, "p", 2, T0)
    assert gates.state("p")[0] is Circuit.CLOSED, "the success broke the run of failures"
    fail_times(gates, "p", 1, at(5))
    assert gates.state("p") == (Circuit.OPEN, 0)
    refused = gates.admit("p", LIMITS, at(6))
    assert refused.refusal is Refusal.OPEN
    assert refused.until == at(35)


def test_after_the_open_period_one_probe_goes_and_its_success_closes() -> None:
    """After the open period exactly one probe is admitted (others are refused as probing), and
    its success closes the circuit so full concurrency returns."""
    gates = PeerGates()
    fail_times(gates, "p", 3, T0)
    assert gates.admit("p", LIMITS, at(29.9)).refusal is Refusal.OPEN
    probe = gates.admit("p", LIMITS, at(30))
    assert probe.admitted and probe.probe
    assert gates.state("p")[0] is Circuit.HALF_OPEN
    assert gates.admit("p", LIMITS, at(31)).refusal is Refusal.PROBING, "only one probe at a time"
    assert gates.finish(probe, Outcome.SUCCESS, LIMITS, at(32)) is Circuit.CLOSED
    assert all(gates.admit("p", LIMITS, at(32)).admitted for _ in range(2))


def test_a_failed_probe_opens_the_circuit_again_for_a_full_period() -> None:
    """A probe that fails reopens the circuit for a whole new open period from its failure."""
    gates = PeerGates()
    fail_times(gates, "p", 3, T0)
    probe = gates.admit("p", LIMITS, at(40))
    assert gates.finish(probe, Outcome.FAILURE, LIMITS, at(50)) is Circuit.OPEN
    again = gates.admit("p", LIMITS, at(51))
    assert again.refusal is Refusal.OPEN and again.until == at(80)
    assert gates.admit("p", LIMITS, at(80)).probe


def test_a_probe_that_taught_nothing_lets_the_next_one_go() -> None:
    """A probe that ends neither in success nor failure leaves the circuit half-open and lets the
    next probe go at once."""
    gates = PeerGates()
    fail_times(gates, "p", 3, T0)
    probe = gates.admit("p", LIMITS, at(30))
    assert gates.finish(probe, Outcome.NEUTRAL, LIMITS, at(31)) is Circuit.HALF_OPEN
    assert gates.admit("p", LIMITS, at(31)).probe, "not stuck waiting for a probe that is gone"


def test_deliveries_started_before_the_circuit_opened_still_count() -> None:
    """A delivery admitted before the circuit opened still holds its slot, and its success closes
    the circuit without waiting for the open period."""
    gates = PeerGates()
    late = gates.admit("p", LIMITS, T0)  # in flight while others fail
    fail_times(gates, "p", 3, T0)
    assert gates.state("p") == (Circuit.OPEN, 1)
    # Its answer proves the peer is back: no need to wait for the period.
    assert gates.finish(late, Outcome.SUCCESS, LIMITS, at(2)) is Circuit.CLOSED
    assert gates.state("p") == (Circuit.CLOSED, 0)
