"""Per-peer admission for deliveries: a concurrency limit and a circuit breaker.

Pure: no I/O, no clock (``now`` is passed in), so a test can walk a peer
through closed, open and half-open with made-up times. The delivery code
asks ``admit`` before it sends to a peer and reports the outcome with
``finish``; whatever is refused is put back in the outbox by the caller,
so a peer that hangs or is down never holds more than its own slots.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Circuit(enum.IntEnum):
    """The values are what /metrics shows (gateway_peer_circuit_state)."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class Outcome(enum.Enum):
    SUCCESS = "success"  # the peer answered (a receipt, or a signed refusal)
    FAILURE = "failure"  # no usable answer: unreachable, timeout, garbage
    NEUTRAL = "neutral"  # nothing learnt about the peer (a local error)


class Refusal(enum.Enum):
    BUSY = "busy"  # all of the peer's slots are in use
    OPEN = "open"  # the circuit is open: the peer failed too often
    PROBING = "probing"  # half-open: one probe is already out


@dataclass(frozen=True)
class Limits:
    concurrency: int  # deliveries in flight to one peer
    failures: int  # consecutive failures that open the circuit
    open_seconds: float  # how long it stays open before a probe


@dataclass(frozen=True)
class Admission:
    peer: str
    refusal: Refusal | None = None
    probe: bool = False  # the one delivery let through a half-open circuit
    until: datetime | None = None  # for OPEN: when a probe may go

    @property
    def admitted(self) -> bool:
        return self.refusal is None


@dataclass
class _PeerState:
    circuit: Circuit = Circuit.CLOSED
    failures: int = 0  # consecutive
    open_until: datetime | None = None
    in_flight: int = 0
    probing: bool = False


class PeerGates:
    """The admission state of every peer this process delivers to."""

    def __init__(self) -> None:
        self._peers: dict[str, _PeerState] = {}

    def admit(self, peer: str, limits: Limits, now: datetime) -> Admission:
        """Take a slot for one delivery to ``peer``, or say why not."""
        s = self._peers.setdefault(peer, _PeerState())
        if s.circuit is Circuit.OPEN:
            if s.open_until is not None and now < s.open_until:
                return Admission(peer, Refusal.OPEN, until=s.open_until)
            s.circuit, s.probing = Circuit.HALF_OPEN, False
        if s.circuit is Circuit.HALF_OPEN and s.probing:
            return Admission(peer, Refusal.PROBING)
        if s.in_flight >= limits.concurrency:
            return Admission(peer, Refusal.BUSY)
        s.in_flight += 1
        probe = s.circuit is Circuit.HALF_OPEN
        s.probing = s.probing or probe
        return Admission(peer, probe=probe)

    def finish(
        self, admission: Admission, outcome: Outcome, limits: Limits, now: datetime
    ) -> Circuit:
        """Give the slot back and learn from the outcome; returns the new state."""
        s = self._peers[admission.peer]
        s.in_flight = max(s.in_flight - 1, 0)
        if admission.probe:
            s.probing = False
        if outcome is Outcome.SUCCESS:
            # Any answer proves the peer is back, even one sent before it opened.
            s.circuit, s.failures, s.open_until = Circuit.CLOSED, 0, None
        elif outcome is Outcome.FAILURE:
            s.failures += 1
            failed_probe = admission.probe and s.circuit is Circuit.HALF_OPEN
            too_many = s.circuit is Circuit.CLOSED and s.failures >= limits.failures
            if failed_probe or too_many:
                s.circuit = Circuit.OPEN
                s.open_until = now + timedelta(seconds=limits.open_seconds)
        return s.circuit

    def state(self, peer: str) -> tuple[Circuit, int]:
        """The circuit and the deliveries in flight of ``peer``."""
        s = self._peers.get(peer)
        return (s.circuit, s.in_flight) if s else (Circuit.CLOSED, 0)

    def failures(self, peer: str) -> int:
        s = self._peers.get(peer)
        return s.failures if s else 0
