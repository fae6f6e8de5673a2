"""The orchestration: the only module that calls several siblings.

* ``submit``: a sender's document -> validated, stored, queued (or rejected);
* ``receive``: a peer network's document -> validated, stored, queued;
* ``dispatch``: one outbox job -> routed and delivered, or retried, or dead.

It owns no I/O of its own: store, transport and channels are passed in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from gateway import backoff, routing
from gateway.agreements import Exchange, refusal
from gateway.channels.files import InboxChannel
from gateway.channels.printing import PdfPrintChannel
from gateway.config import Sender, Settings
from gateway.directory import Partner
from gateway.errors import Forbidden, GatewayError, IdempotencyConflict, NotServiced, TransportError
from gateway.intake import Checked, check_document
from gateway.lookup import Directory, SmpSource
from gateway.metrics import Metrics
from gateway.model import (
    BIS3_DOCUMENT_TYPES,
    Direction,
    DocumentMeta,
    OutboxJob,
    ParticipantId,
    RouteDecision,
    RouteKind,
    State,
    StatusEvent,
)
from gateway.store.base import Store
from gateway.transport.base import InboundMessage, OutboundMessage, ReceiveOutcome, Transport

log = structlog.get_logger("gateway.pipeline")

Clock = Callable[[], datetime]


class AgreementRefused(GatewayError):
    """The interconnection agreement does not cover this document."""

    http_status = 403
    ebms_code = "EBMS:0010"  # processing mode mismatch: no agreement for this exchange
    code = "agreement_refused"


class DocumentRejected(GatewayError):
    """A peer's document failed validation: the sender is told why."""

    http_status = 400
    ebms_code = "EBMS:0004"
    code = "document_rejected"


@dataclass(frozen=True)
class SubmitResult:
    document_id: str
    created: bool
    state: State
    errors: tuple[dict[str, Any], ...] = ()


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        transport: Transport,
        *,
        metrics: Metrics,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
        smp: SmpSource | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.transport = transport
        self.metrics = metrics
        self.clock = clock
        self.wake = wake  # tells the worker there is new work
        self.directory = Directory(lambda: self.settings, store, smp)
        self.inbox = InboxChannel(settings.channels.inbox_dir)
        self.printer = PdfPrintChannel(settings.channels.print_dir, limits=settings.limits)

    # --- outbound: a sender submits ---------------------------------------

    async def submit(
        self, sender: Sender, body: bytes, *, idempotency_key: str | None = None
    ) -> SubmitResult:
        """Validate and store a sender's document. Raises InputError subclasses
        for what is not a UBL document at all (nothing is stored then)."""
        checked = check_document(body, self.settings.limits)
        facts = checked.facts
        if sender.participants and (
            facts.seller is None or facts.seller not in sender.participants
        ):
            raise Forbidden(
                f"sender {sender.name!r} may not send for seller {facts.seller or '(none)'}",
                seller=str(facts.seller or ""),
            )
        now = self.clock()
        doc_id = str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(document_id=doc_id)
        meta = self._meta(doc_id, Direction.OUTBOUND, checked, body, now, origin=sender.name)
        events = [StatusEvent(State.RECEIVED, now, f"submitted by {sender.name}")]
        problems = checked.problems()
        job = None
        if problems:
            events.append(
                StatusEvent(
                    State.REJECTED,
                    now,
                    "the document failed validation",
                    {"errors": list(problems), "fatal": checked.report.fatal_ids},
                )
            )
        else:
            job = OutboxJob(str(uuid.uuid4()), doc_id, now, now)
        key = f"api:{sender.name}:{idempotency_key}" if idempotency_key else None
        result = await self.store.accept(
            meta, body, events, idempotency_key=key, fingerprint=meta.sha256, job=job
        )
        if not result.created:
            if not result.fingerprint_matches:
                raise IdempotencyConflict(
                    "this Idempotency-Key was already used for a different document",
                    document_id=result.document_id,
                )
            history = await self.store.history(result.document_id)
            state = history[-1].state if history else State.RECEIVED
            log.info("submit.repeat", original=result.document_id)
            return SubmitResult(result.document_id, False, state)
        if problems:
            self.metrics.rejected.labels("outbound", "validation").inc()
            log.info("submit.rejected", fatal=checked.report.fatal_ids)
            return SubmitResult(doc_id, True, State.REJECTED, tuple(problems))
        self.metrics.received.labels("outbound").inc()
        log.info("submit.accepted", recipient=meta.recipient)
        self.wake()
        return SubmitResult(doc_id, True, State.RECEIVED)

    # --- inbound: a peer network delivers ---------------------------------

    async def receive(self, message: InboundMessage) -> ReceiveOutcome:
        # The SBDH InstanceIdentifier is the end-to-end key (a sender may
        # rebuild its message with a new MessageId); the MessageId stands in
        # when a transport has no envelope.
        if message.instance_id:
            key = f"in:{message.peer}:sbdh:{message.instance_id}"
        else:
            key = f"in:{message.peer}:{message.message_id}"
        structlog.contextvars.bind_contextvars(message_id=message.message_id, peer=message.peer)
        known = await self.store.find_by_key(key)
        if known is not None:
            return await self._duplicate(known)
        checked = check_document(message.payload, self.settings.limits)
        problems = checked.problems()
        if problems:
            self.metrics.rejected.labels("inbound", "validation").inc()
            raise DocumentRejected(
                "the document failed validation",
                fatal=checked.report.fatal_ids,
                errors=list(problems)[:20],
            )
        recipient = checked.facts.buyer
        if recipient is None or await self.receivable(recipient) is None:
            self.metrics.rejected.labels("inbound", "not_serviced").inc()
            raise NotServiced(f"recipient {recipient or '(none)'} is not served by this network")
        now = self.clock()
        agreement = self._inbound_agreement(message, checked, now)
        doc_id = str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(document_id=doc_id)
        meta = self._meta(
            doc_id,
            Direction.INBOUND,
            checked,
            message.payload,
            now,
            origin=message.peer,
            message_id=message.message_id,
        )
        event = StatusEvent(
            State.RECEIVED,
            now,
            f"received from network {message.peer}",
            {"message_id": message.message_id, "from_network": message.peer},
        )
        job = OutboxJob(str(uuid.uuid4()), doc_id, now, now)
        result = await self.store.accept(
            meta, message.payload, [event], idempotency_key=key, fingerprint=meta.sha256, job=job
        )
        if not result.created:  # a concurrent duplicate won the race
            return await self._duplicate(result.document_id)
        self.metrics.received.labels("inbound").inc()
        await self.store.record_exchange(
            Exchange(
                doc_id,
                now.strftime("%Y-%m"),
                message.peer,
                agreement,
                "receive",
                meta.document_type,
            )
        )
        log.info("receive.accepted", recipient=meta.recipient)
        self.wake()
        return ReceiveOutcome(doc_id, False)

    async def receivable(self, pid: ParticipantId) -> tuple[str, ...] | None:
        """The document types one of our participants receives (None: not ours),
        as the SMP publishes them."""
        if self.settings.participant(pid) is not None:
            return BIS3_DOCUMENT_TYPES
        partner = await self.store.get_partner(str(pid))
        if partner is not None and partner.network == self.settings.network.name:
            return partner.document_types or BIS3_DOCUMENT_TYPES
        return None

    def _inbound_agreement(self, message: InboundMessage, checked: Checked, now: datetime) -> str:
        """The id of the agreement a peer's document arrives under; raises
        AgreementRefused when its terms do not cover it."""
        peer = self.settings.peer_named(message.peer)
        if peer is None:  # the transport only passes configured peers
            raise AgreementRefused(f"network {message.peer} has no agreement with us")
        why_not = refusal(
            peer.agreement,
            way="receive",
            document_type=checked.facts.document_type,
            size=len(message.payload),
            signed=checked.facts.signed,
            today=now.date(),
        )
        if why_not:
            self.metrics.rejected.labels("inbound", "agreement").inc()
            raise AgreementRefused(why_not, agreement=peer.agreement.id)
        return peer.agreement.id

    async def _duplicate(self, document_id: str) -> ReceiveOutcome:
        meta = await self.store.get_meta(document_id)
        receipt = await self.store.get_blob(document_id, "receipt")
        first = meta.message_id if meta else ""
        return ReceiveOutcome(document_id, True, receipt, first)

    async def keep_receipt(self, document_id: str, receipt: bytes) -> None:
        await self.store.put_blob(document_id, "receipt", receipt)

    # --- delivery: the worker runs one job --------------------------------

    async def dispatch(self, job: OutboxJob) -> None:
        structlog.contextvars.bind_contextvars(document_id=job.document_id, job_id=job.id)
        meta = await self.store.get_meta(job.document_id)
        payload = await self.store.get_payload(job.document_id)
        if meta is None or payload is None:
            # Cannot happen with an atomic store; drop the orphan job loudly.
            log.error("dispatch.orphan_job")
            await self.store.finish_job(job, [])
            return
        now = self.clock()
        try:
            decision = await self.route(meta, now)
        except TransportError as exc:  # the directory could not be asked: try later
            await self._failed_attempt(job, meta, None, exc, [])
            return
        routed = []
        if job.attempts == 0:
            routed.append(
                StatusEvent(State.ROUTED, now, "; ".join(decision.reasons), decision.to_json())
            )
        try:
            final = await self._deliver(meta, payload, decision, now)
        except TransportError as exc:
            await self._failed_attempt(job, meta, decision, exc, routed)
            return
        await self.store.finish_job(job, [*routed, final])
        route = decision.kind.value
        if final.state in (State.DELIVERED, State.PRINTED):
            self.metrics.delivered.labels(route).inc()
            self.metrics.latency.labels(route).observe(
                (self.clock() - meta.received_at).total_seconds()
            )
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
            facts=routing.Facts(
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
        self, meta: DocumentMeta, payload: bytes, decision: RouteDecision, now: datetime
    ) -> StatusEvent:
        kind = decision.kind
        if kind is RouteKind.LOCAL:
            done = await self.inbox.deliver(meta.recipient, meta.id, payload)
            return StatusEvent(
                State.DELIVERED,
                self.clock(),
                f"delivered to {meta.recipient} by {decision.target}",
                {"channel": decision.target, "location": done.location},
            )
        if kind is RouteKind.PRINT:
            # Our own participants' postal address comes from the configuration;
            # anyone else's is read from the document by the print channel.
            own = self.settings.participant(ParticipantId.parse(meta.recipient))
            done = await self.printer.deliver(
                meta.recipient,
                meta.id,
                payload,
                now=now,
                address=own.address if own else (),
                name=own.name if own else "",
            )
            return StatusEvent(
                State.PRINTED,
                self.clock(),
                f"printed, batch {done.batch}",
                {"batch": done.batch, "location": done.location},
            )
        if kind is RouteKind.PEER:
            peer = self.settings.peer_named(decision.target)
            if peer is None:  # config reloaded between decide and here
                raise TransportError(f"peer network {decision.target} is no longer configured")
            receipt = await self.transport.send(peer, self._outbound(meta, payload))
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
        if decision.prospect:
            await self._record_prospect(meta)
        return StatusEvent(State.FAILED, self.clock(), "no route: " + "; ".join(decision.reasons))

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
            why = "refused by the recipient's network" if exc.permanent else "gave up retrying"
            event = StatusEvent(
                State.FAILED,
                now,
                f"{why} after {attempts} attempt(s): {exc.message}",
                {"attempts": attempts, "cause": exc.message, "permanent": exc.permanent},
            )
            await self.store.finish_job(job, [*routed, event])
            self.metrics.failed.labels(route).inc()
            log.warning("dispatch.dead_letter", attempts=attempts, cause=exc.message)
            return
        event = StatusEvent(
            State.ATTEMPT_FAILED,
            now,
            f"attempt {attempts} failed: {exc.message}; next attempt at {nxt.isoformat()}",
            {"attempt": attempts, "cause": exc.message, "next_attempt_at": nxt.isoformat()},
        )
        retry = OutboxJob(job.id, job.document_id, job.created_at, nxt, attempts)
        await self.store.retry_job(retry, [*routed, event])
        log.info("dispatch.retry", attempt=attempts, cause=exc.message)

    # --- helpers ----------------------------------------------------------

    def _meta(
        self,
        doc_id: str,
        direction: Direction,
        checked: Checked,
        body: bytes,
        now: datetime,
        *,
        origin: str,
        message_id: str = "",
    ) -> DocumentMeta:
        f = checked.facts
        return DocumentMeta(
            id=doc_id,
            direction=direction,
            kind=f.kind,
            sender=str(f.seller or ""),
            recipient=str(f.buyer or ""),
            document_type=f.document_type,
            process=f.process,
            business_id=f.business_id,
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            received_at=now,
            origin=origin,
            message_id=message_id,
            seller_country=f.seller_country,
            buyer_country=f.buyer_country,
            buyer_is_business=f.buyer_is_business,
            signed=f.signed,
            buyer_name=f.buyer_name,
        )


async def drain(tasks: set[asyncio.Task[None]]) -> None:
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
