"""The per-peer gate around network deliveries (the I/O side of ``breaker``).

A delivery to a peer first takes one of that peer's slots; a peer whose
slots are all in use, or whose circuit is open, gets the job put back in
the outbox for a little later instead of holding one of the worker's
slots. Such a deferral is not an attempt: the job keeps its attempt count,
so its backoff does not grow for a delivery that never left, but the
give-up deadline still applies (a deferral past it ends in the dead
letters, as a failed attempt would).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from gateway.config.settings import Peer, Settings
from gateway.core.breaker import Admission, Circuit, Limits, Outcome, PeerGates, Refusal
from gateway.errors import TransportError
from gateway.metrics import Metrics
from gateway.model import DocumentMeta, OutboxJob, State, StatusEvent
from gateway.store.base import DocumentStore
from gateway.transport.base import OutboundMessage, Receipt, Transport

log = structlog.get_logger("gateway.peer_gate")


class PeerDeferred(Exception):
    """The gate refused a delivery; the job goes back to the outbox."""

    def __init__(self, admission: Admission) -> None:
        super().__init__(admission.peer)
        self.admission = admission


def judge(exc: TransportError) -> Outcome:
    """What a failed send says about the peer's health. Only no answer, or
    an HTTP answer that is no signal, counts against it: a problem on our
    side (packaging, a configured certificate) must not open its circuit."""
    if exc.details.get("ebms_code"):
        return Outcome.SUCCESS  # a signed ebMS error: the peer is up and answering
    if exc.details.get("unreachable") or exc.details.get("http_status"):
        return Outcome.FAILURE
    return Outcome.NEUTRAL


class PeerGating:
    settings: Settings
    store: DocumentStore
    transport: Transport
    metrics: Metrics
    gates: PeerGates
    clock: Callable[[], datetime]

    def limits(self) -> Limits:
        d = self.settings.delivery  # read each time: a reload applies
        return Limits(d.per_peer_concurrency, d.breaker_failures, d.breaker_open_seconds)

    async def send_gated(self, peer: Peer, message: OutboundMessage, now: datetime) -> Receipt:
        """Send through the peer's gate; raises PeerDeferred when it is shut."""
        limits = self.limits()
        admission = self.gates.admit(peer.name, limits, now)
        if not admission.admitted:
            raise PeerDeferred(admission)
        self.show_peer(peer.name)
        outcome = Outcome.NEUTRAL  # cancelled or crashed: nothing learnt
        try:
            receipt = await self.transport.send(peer, message)
            outcome = Outcome.SUCCESS
            return receipt
        except TransportError as exc:
            outcome = judge(exc)
            raise
        finally:
            before, _ = self.gates.state(peer.name)
            after = self.gates.finish(admission, outcome, limits, self.clock())
            if after is not before:
                say = log.warning if after is Circuit.OPEN else log.info
                say(
                    "peer.circuit",
                    peer=peer.name,
                    state=after.name.lower(),
                    failures=self.gates.failures(peer.name),
                )
            self.show_peer(peer.name)

    def show_peer(self, name: str) -> None:
        circuit, in_flight = self.gates.state(name)
        self.metrics.peer_circuit.labels(name).set(int(circuit))
        self.metrics.peer_in_flight.labels(name).set(in_flight)

    def deferral(self, admission: Admission, now: datetime) -> tuple[str, datetime]:
        """Why the delivery waits, and until when (with jitter, so a queue
        of documents to one peer does not come back all at once)."""
        d = self.settings.delivery
        draw = random.random()  # noqa: S311 - jitter, not security
        name = admission.peer
        if admission.refusal is Refusal.OPEN and admission.until is not None:
            why = (
                f"peer {name} is not answering (circuit open after "
                f"{self.gates.failures(name)} failed attempts in a row); waiting for it to recover"
            )
            return why, admission.until + timedelta(seconds=d.initial_backoff_seconds * draw)
        if admission.refusal is Refusal.PROBING:
            why = f"peer {name} is being probed after failures; waiting for the probe's outcome"
            return why, now + timedelta(seconds=d.breaker_open_seconds * (0.5 + 0.5 * draw))
        why = f"all {d.per_peer_concurrency} delivery slots for peer {name} are in use"
        return why, now + timedelta(seconds=d.initial_backoff_seconds * (0.5 + 0.5 * draw))

    def give_up_at(self, job: OutboxJob, peer: Peer | None) -> datetime:
        seconds = self.settings.delivery.give_up_after_seconds
        if peer is not None and peer.agreement.delivery_deadline_hours:
            seconds = peer.agreement.delivery_deadline_hours * 3600
        return job.created_at + timedelta(seconds=seconds)

    async def defer(
        self, job: OutboxJob, meta: DocumentMeta, wait: PeerDeferred
    ) -> tuple[OutboxJob | None, list[StatusEvent]]:
        """The job put back for later, with the event that says why (not
        again while it keeps waiting for the same reason, so a long outage
        does not flood the history); or,
        past the give-up deadline, None and the dead letter's event."""
        admission, now = wait.admission, self.clock()
        why, at = self.deferral(admission, now)
        cause = admission.refusal.value if admission.refusal else ""
        deadline = self.give_up_at(job, self.settings.peer_named(admission.peer))
        if now >= deadline:
            reason = f"gave up retrying after {job.attempts} attempt(s): {why}"
            details = {"attempts": job.attempts, "cause": why, "permanent": False}
            return None, [StatusEvent(State.FAILED, now, reason, details)]
        at = min(at, deadline)
        self.metrics.deferred.labels(admission.peer, cause).inc()
        log.info("dispatch.deferred", peer=admission.peer, cause=cause, until=at.isoformat())
        retry = OutboxJob(job.id, job.document_id, job.created_at, at, job.attempts)
        history = await self.store.history(meta.id)
        last = history[-1] if history else None
        if last and last.state is State.DEFERRED and _same_wait(last.details.get("cause"), cause):
            return retry, []
        details = {"peer": admission.peer, "cause": cause, "next_attempt_at": at.isoformat()}
        return retry, [
            StatusEvent(State.DEFERRED, now, f"{why}; next try at {at.isoformat()}", details)
        ]


def _same_wait(before: object, cause: str) -> bool:
    # Open and probing alternate while a peer stays down: one wait, told once.
    circuit = {Refusal.OPEN.value, Refusal.PROBING.value}
    return before == cause or (before in circuit and cause in circuit)
