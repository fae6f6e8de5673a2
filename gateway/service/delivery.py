"""Delivery: the worker runs one outbox job through here. The document is
looked up, routed with reasons, and delivered: to a peer network under its
agreement, or to one of our recipients through the channels of its
reception waterfall (``reception``). A failed attempt is scheduled again
with backoff, or ends in the dead letters.

The channels are passed in, one per reception mode (``channels.base``): the
pipeline holds a ``Delivery``, it does not inherit one.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

import structlog

from gateway.channels.base import Channel, Exporter, Parcel, Verdict
from gateway.config.settings import Settings
from gateway.core import backoff
from gateway.core.breaker import PeerGates
from gateway.directory.lookup import Locator
from gateway.errors import TransportError
from gateway.metrics import Metrics
from gateway.model import (
    DocumentMeta,
    Exchange,
    OutboxJob,
    ParticipantId,
    Partner,
    RouteDecision,
    RouteKind,
    State,
    StatusEvent,
)
from gateway.routing import decision as routing
from gateway.service import reception
from gateway.service.peer_gate import PeerDeferred, PeerGating
from gateway.service.recipients import recipient_of
from gateway.store.base import (
    AccountStore,
    DocumentListing,
    DocumentStore,
    LedgerStore,
    Outbox,
    PartnerStore,
    PortalStore,
)
from gateway.transport.base import OutboundMessage, Transport

log = structlog.get_logger("gateway.delivery")

Clock = Callable[[], datetime]


class DeliveryStore(
    DocumentStore,
    Outbox,
    PartnerStore,
    LedgerStore,
    AccountStore,
    DocumentListing,
    PortalStore,
    Protocol,
):
    """What delivering (and, in Pipeline, accepting) a document touches:
    not the cache, nor opening and closing, which the server does. The
    recipient accounts tell the inbox channels who can read an inbox; the
    listing's conditional append lets an admin send a dead letter again;
    the portal's choices are a company's own word on how it is reached."""


class _ChannelRetry(TransportError):
    """A channel asked for another attempt later; carries the fallbacks of
    this attempt, which the history keeps."""

    def __init__(self, message: str, events: list[StatusEvent]) -> None:
        super().__init__(message)
        self.events = events


class Delivery(PeerGating):
    store: DeliveryStore

    def __init__(
        self,
        settings: Settings,
        store: DeliveryStore,
        transport: Transport,
        *,
        metrics: Metrics,
        clock: Clock,
        directory: Locator,
        channels: Mapping[str, Channel],
        exporter: Exporter | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.transport = transport
        self.metrics = metrics
        self.clock = clock
        self.directory = directory
        self.channels = dict(channels)  # reception mode -> its channel
        self.exporter = exporter  # the accounting export add-on
        self.gates = PeerGates()  # per-peer slots and circuit breakers, for this process

    async def dispatch(self, job: OutboxJob, *, owner: str | None = None) -> None:
        """Run one job. ``owner``: the worker holding its lease; if that lease
        expired and another worker took the job over, this one records nothing."""
        structlog.contextvars.bind_contextvars(document_id=job.document_id, job_id=job.id)
        meta = await self.store.get_meta(job.document_id)
        payload = await self.store.get_payload(job.document_id)
        if meta is None or payload is None:
            # Cannot happen with an atomic store; drop the orphan job loudly.
            log.error("dispatch.orphan_job")
            await self.store.finish_job(job, [], owner=owner)
            return
        now = self.clock()
        try:
            decision = await self.route(meta, now)
        except TransportError as exc:  # the directory could not be asked: try later
            await self._failed_attempt(job, meta, None, exc, [], owner)
            return
        routed = []
        if job.attempts == 0:
            routed.append(
                StatusEvent(State.ROUTED, now, "; ".join(decision.reasons), decision.to_json())
            )
        try:
            done = await self._deliver(job, meta, payload, decision, now)
        except PeerDeferred as wait:
            await self._deferred(job, meta, wait, owner)
            return
        except _ChannelRetry as exc:
            await self._failed_attempt(job, meta, decision, exc, [*routed, *exc.events], owner)
            return
        except TransportError as exc:
            await self._failed_attempt(job, meta, decision, exc, routed, owner)
            return
        final = done[-1]
        if not await self.store.finish_job(job, [*routed, *done], owner=owner):
            log.warning("dispatch.lease_lost", state=final.state.value)
            return
        route = decision.kind.value
        if final.state in (State.DELIVERED, State.PRINTED):
            self.metrics.delivered.labels(route).inc()
            self.metrics.latency.labels(route).observe(
                (self.clock() - meta.received_at).total_seconds()
            )
        elif final.state is State.REFUSED:
            self.metrics.refused.labels(route).inc()
        else:
            self.metrics.failed.labels(route).inc()
        self.metrics.attempts.labels(route, final.state.value).inc()
        log.info("dispatch.done", state=final.state.value, route=route, target=decision.target)

    async def route(self, meta: DocumentMeta, now: datetime) -> RouteDecision:
        """Look the recipient up and decide where the document goes."""
        pid = ParticipantId.parse(meta.recipient)
        return routing.decide(
            self.settings,
            recipient=pid,
            location=await self.directory.locate(pid, meta.document_type),
            facts=routing.RouteFacts(
                document_type=meta.document_type,
                size=meta.size,
                signed=meta.signed,
                seller_country=meta.seller_country,
                buyer_country=meta.buyer_country,
                buyer_is_business=meta.buyer_is_business,
            ),
            direction=meta.direction,
            today=now.date(),
        )

    async def _deliver(
        self,
        job: OutboxJob,
        meta: DocumentMeta,
        payload: bytes,
        decision: RouteDecision,
        now: datetime,
    ) -> list[StatusEvent]:
        """The events of a finished delivery (the last one final); raises
        TransportError (or _ChannelRetry) for an attempt to make again."""
        kind = decision.kind
        if kind in (RouteKind.LOCAL, RouteKind.PRINT):
            return await self._to_recipient(job, meta, payload, decision, now)
        if kind is RouteKind.PEER:
            return [await self._to_peer(meta, payload, decision, now)]
        if decision.prospect:
            await self._record_prospect(meta)
        return [
            StatusEvent(State.REFUSED, self.clock(), "no route: " + "; ".join(decision.reasons))
        ]

    async def _to_recipient(
        self,
        job: OutboxJob,
        meta: DocumentMeta,
        payload: bytes,
        decision: RouteDecision,
        now: datetime,
    ) -> list[StatusEvent]:
        """Our own recipient (or a company reached on paper): the accounting
        export first, when it has one (idempotent, so a retried attempt may
        run it again), then its reception waterfall."""
        recipient = await recipient_of(self.settings, self.store, meta, decision)
        parcel = Parcel(meta, payload, now, job.attempts + 1)
        extra: dict[str, object] = {}
        if recipient.export_dir is not None and self.exporter is not None:
            exported = await self.exporter.export(parcel, recipient)
            if exported.verdict is not Verdict.DELIVERED:
                # Retry a folder that could not be written; a refusal will not change.
                permanent = exported.verdict is Verdict.REFUSED
                raise TransportError(f"accounting export: {exported.reason}", permanent=permanent)
            extra["export"] = dict(exported.details)
        refused = (
            reception.refused_before(await self.store.history(meta.id)) if job.attempts else {}
        )
        result = await reception.run(
            self.channels,
            decision.channels or (decision.target,),
            parcel,
            recipient,
            clock=self.clock,
            refused=refused,
            extra=extra,
        )
        if result.final is None:
            raise _ChannelRetry(result.retry, result.events)
        return result.events

    async def _to_peer(
        self, meta: DocumentMeta, payload: bytes, decision: RouteDecision, now: datetime
    ) -> StatusEvent:
        peer = self.settings.peer_named(decision.target)
        if peer is None:  # config reloaded between decide and here
            raise TransportError(f"peer network {decision.target} is no longer configured")
        receipt = await self.send_gated(peer, self._outbound(meta, payload), now)
        await self.store.put_blob(meta.id, "receipt", receipt.raw)
        await self.store.record_exchange(
            Exchange(
                meta.id,
                self.clock().strftime("%Y-%m"),
                peer.name,
                decision.agreement,
                "send",
                meta.document_type,
            )
        )
        return StatusEvent(
            State.DELIVERED,
            self.clock(),
            f"delivered to network {peer.name}, receipt {receipt.receipt_id}",
            {
                "network": peer.name,
                "message_id": receipt.message_id,
                "receipt_id": receipt.receipt_id,
                "receipt_at": receipt.received_at.isoformat(),
            },
        )

    async def _deferred(
        self, job: OutboxJob, meta: DocumentMeta, wait: PeerDeferred, owner: str | None
    ) -> None:
        """The peer's gate is shut: back to the outbox, not counted as an attempt."""
        retry, events = await self.defer(job, meta, wait)
        if retry is None:  # past the give-up deadline
            if await self.store.finish_job(job, events, owner=owner):
                self.metrics.failed.labels(RouteKind.PEER.value).inc()
                log.warning("dispatch.dead_letter", attempts=job.attempts, cause=events[0].reason)
                return
        elif await self.store.retry_job(retry, events, owner=owner):
            return
        log.warning("dispatch.lease_lost", state="deferred")

    async def _record_prospect(self, meta: DocumentMeta) -> None:
        """A company that must receive by network but is in none: one to onboard."""
        if await self.store.get_partner(meta.recipient) is None:
            name = meta.buyer_name or meta.recipient
            await self.store.put_partners(
                [Partner(meta.recipient, name, network="", country=meta.buyer_country)]
            )
            log.info("dispatch.prospect_recorded", recipient=meta.recipient)

    def _outbound(self, meta: DocumentMeta, payload: bytes) -> OutboundMessage:
        # The message id is derived from the document id so that every retry,
        # in this process or after a restart, carries the same one: the peer
        # can then eliminate duplicates.
        return OutboundMessage(
            message_id=f"{meta.id}@{self.settings.network.provider_id}",
            document_id=meta.id,
            sender=meta.sender,
            recipient=meta.recipient,
            document_type=meta.document_type,
            process=meta.process,
            payload=payload,
            created_at=meta.received_at,
        )

    async def _failed_attempt(
        self,
        job: OutboxJob,
        meta: DocumentMeta,
        decision: RouteDecision | None,
        exc: TransportError,
        routed: list[StatusEvent],
        owner: str | None = None,
    ) -> None:
        now = self.clock()
        attempts = job.attempts + 1
        route = decision.kind.value if decision else "unrouted"
        policy = self.settings.delivery
        peer = self.settings.peer_named(decision.target) if decision else None
        if peer is not None and peer.agreement.delivery_deadline_hours:
            # The agreement's delivery deadline replaces the network default.
            hours = peer.agreement.delivery_deadline_hours
            policy = dataclasses.replace(policy, give_up_after_seconds=hours * 3600)
        self.metrics.attempts.labels(route, "error").inc()
        nxt = None
        if not exc.permanent:
            nxt = backoff.next_attempt(
                attempts,
                first_attempt_at=job.created_at,
                now=now,
                policy=policy,
                draw=random.random(),  # noqa: S311 - jitter, not security
            )
        if nxt is None:
            why = _failure_reason(exc)
            # The recipient's network said no: a refusal, not a failure of ours.
            end = State.REFUSED if exc.permanent and exc.from_peer else State.FAILED
            event = StatusEvent(
                end,
                now,
                f"{why} after {attempts} attempt(s): {exc.message}",
                {"attempts": attempts, "cause": exc.message, "permanent": exc.permanent},
            )
            if not await self.store.finish_job(job, [*routed, event], owner=owner):
                log.warning("dispatch.lease_lost", state=end.value)
                return
            (self.metrics.refused if end is State.REFUSED else self.metrics.failed).labels(
                route
            ).inc()
            log.warning("dispatch.dead_letter", attempts=attempts, cause=exc.message)
            return
        event = StatusEvent(
            State.ATTEMPT_FAILED,
            now,
            f"attempt {attempts} failed: {exc.message}; next attempt at {nxt.isoformat()}",
            {"attempt": attempts, "cause": exc.message, "next_attempt_at": nxt.isoformat()},
        )
        retry = OutboxJob(job.id, job.document_id, job.created_at, nxt, attempts)
        if not await self.store.retry_job(retry, [*routed, event], owner=owner):
            log.warning("dispatch.lease_lost", state="attempt_failed")
            return
        log.info("dispatch.retry", attempt=attempts, cause=exc.message)


def _failure_reason(exc: TransportError) -> str:
    """Why a delivery ended, from where it failed: only the peer's own signed
    refusal is the recipient's network's doing."""
    if not exc.permanent:
        return "gave up retrying"
    if exc.from_peer:
        return "refused by the recipient's network"
    return "not sent: a problem on our side"
