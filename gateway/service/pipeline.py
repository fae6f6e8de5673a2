"""The orchestration: the only module that calls several siblings.

* ``submit``: a sender's document -> validated, stored, queued (or rejected);
* ``receive``: a peer network's document -> validated, stored, queued;
* ``dispatch`` (a ``delivery.Delivery`` it holds): one outbox job -> routed
  and delivered by a peer network or one of the recipient's channels, or
  retried, or dead. ``channels`` builds the channel of each reception mode.

It owns no I/O of its own: store, transport and channels are passed in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from gateway.channels.base import Channel, Exporter
from gateway.channels.export import AccountingExport
from gateway.config.settings import Sender, Settings
from gateway.core.dedup import api_key, inbound_keys, invoice_key
from gateway.directory.lookup import Locator, SmpSource
from gateway.errors import Forbidden, GatewayError, IdempotencyConflict, NotServiced, StoreError
from gateway.metrics import Metrics
from gateway.model import (
    BIS3_DOCUMENT_TYPES,
    AcceptResult,
    Direction,
    Exchange,
    OutboxJob,
    ParticipantId,
    State,
    StatusEvent,
)
from gateway.routing.agreements import refusal
from gateway.service.channels import close_channels, default_channels
from gateway.service.delivery import Clock, Delivery, DeliveryStore
from gateway.service.intake import Checked, Checker, meta_of
from gateway.service.requeue import RETRYABLE, requeue
from gateway.transport.base import InboundMessage, ReceiveOutcome, Transport
from gateway.validation import envelope
from gateway.validation.facts import DocumentFacts

log = structlog.get_logger("gateway.pipeline")

ALLOW_DUPLICATE = "Allow-Duplicate"  # request header: "true" re-sends a known invoice


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


class DuplicateInvoice(GatewayError):
    """A valid document with this seller, kind, number and issue date was
    already submitted by this sender."""

    http_status = 409
    code = "duplicate_invoice"

    def __init__(self, document_id: str) -> None:
        super().__init__(
            "this invoice (same seller, number and issue date) was already submitted as "
            f"document {document_id}; send it with the header '{ALLOW_DUPLICATE}: true' "
            "if it is a genuine re-send",
            document_id=document_id,
            location=f"/api/v1/documents/{document_id}",
        )
        self.document_id = document_id


class StoreOutcomeUnknown(StoreError):
    """The store failed or timed out during the write: the document may
    have landed or not. Its id was chosen before the write, so a GET of
    its location tells which."""

    def __init__(self, document_id: str) -> None:
        location = f"/api/v1/documents/{document_id}"
        super().__init__(
            "the store did not confirm the write; the document may or may not have been "
            f"stored: GET {location} before sending it again (404: it was not), "
            "or send it again with the same Idempotency-Key",
            document_id=document_id,
            location=location,
        )
        self.document_id = document_id
        self.location = location


@dataclass(frozen=True)
class _SubmitKeys:
    idempotency: str | None
    invoice: str | None

    def all(self) -> list[str]:
        return [k for k in (self.idempotency, self.invoice) if k is not None]


def _submit_keys(
    sender: str, idempotency_key: str | None, facts: DocumentFacts, *, claim: bool
) -> _SubmitKeys:
    """The keys a submission claims. A rejected document claims no invoice
    key: a corrected document with the same number must go through. A
    deliberate re-send (Allow-Duplicate) claims none either: the original
    holds it."""
    return _SubmitKeys(
        api_key(sender, idempotency_key) if idempotency_key else None,
        invoice_key(sender, facts) if claim else None,
    )


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
        store: DeliveryStore,
        transport: Transport,
        *,
        metrics: Metrics,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
        smp: SmpSource | None = None,
        checker: Checker | None = None,
        channels: Mapping[str, Channel] | None = None,
        exporter: Exporter | None = None,
    ) -> None:
        self._settings = settings
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.wake = wake  # tells the worker there is new work
        self.checker = checker or Checker()
        self.delivery = Delivery(
            settings,
            store,
            transport,
            metrics=metrics,
            clock=clock,
            directory=Locator(
                lambda: self.settings,
                store,
                smp,
                choices=store,  # a company's portal choice outranks the file's
            ),
            channels=default_channels(settings, store) if channels is None else channels,
            exporter=AccountingExport(limits=settings.limits) if exporter is None else exporter,
        )

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, new: Settings) -> None:
        """A reloaded configuration applies to new submissions and deliveries."""
        self._settings = new
        self.delivery.settings = new

    async def dispatch(self, job: OutboxJob, *, owner: str | None = None) -> None:
        """Deliver one outbox job (see ``delivery.Delivery.dispatch``)."""
        await self.delivery.dispatch(job, owner=owner)

    async def retry(self, document_id: str, *, by: str) -> State | None:
        """Send a ``failed`` or ``refused`` document out again (a dead letter
        an admin has fixed the cause of): a ``requeued`` event and a new
        outbox job, at once, only from those states. Returns the state found
        (None: no such document); the job starts afresh, attempts and
        waterfall included."""
        found = await requeue(self.store, document_id, by=by, now=self.clock())
        if found in RETRYABLE:
            log.info("document.requeued", document_id=document_id, by=by)
            self.wake()
        return found

    def show_peer(self, name: str) -> None:
        self.delivery.show_peer(name)

    async def close(self) -> None:
        """End what the channels keep open (SMTP connections)."""
        await close_channels(self.delivery.channels)

    # --- outbound: a sender submits ---------------------------------------

    async def submit(
        self,
        sender: Sender,
        body: bytes,
        *,
        idempotency_key: str | None = None,
        allow_duplicate: bool = False,
    ) -> SubmitResult:
        """Validate and store a sender's document. Raises InputError subclasses
        for what is not a UBL document at all (nothing is stored then),
        DuplicateInvoice for a second valid document with the same seller,
        kind, number and issue date (unless ``allow_duplicate``), and
        StoreOutcomeUnknown when the store failed: the id it names tells
        whether the document landed after all."""
        checked = await self.checker.check(body, self.settings.limits)
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
        meta = meta_of(doc_id, Direction.OUTBOUND, checked.facts, body, now, origin=sender.name)
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
        claim = not problems and not allow_duplicate
        keys = _submit_keys(sender.name, idempotency_key, facts, claim=claim)
        try:
            result = await self.store.accept(
                meta, body, events, keys=keys.all(), fingerprint=meta.sha256, job=job
            )
        except StoreError as exc:
            log.warning("submit.store_failed", error=exc.message)
            raise StoreOutcomeUnknown(doc_id) from exc
        if not result.created:
            return await self._repeat(result, keys)
        if problems:
            self.metrics.rejected.labels("outbound", "validation").inc()
            log.info("submit.rejected", fatal=checked.report.fatal_ids)
            return SubmitResult(doc_id, True, State.REJECTED, tuple(problems))
        self.metrics.received.labels("outbound").inc()
        log.info("submit.accepted", recipient=meta.recipient)
        self.wake()
        return SubmitResult(doc_id, True, State.RECEIVED)

    async def _repeat(self, result: AcceptResult, keys: _SubmitKeys) -> SubmitResult:
        """A submission that found one of its keys already claimed."""
        if result.key == keys.invoice:
            log.info("submit.duplicate_invoice", original=result.document_id)
            raise DuplicateInvoice(result.document_id)
        if not result.fingerprint_matches:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different document",
                document_id=result.document_id,
            )
        history = await self.store.history(result.document_id)
        state = history[-1].state if history else State.RECEIVED
        log.info("submit.repeat", original=result.document_id)
        return SubmitResult(result.document_id, False, state)

    # --- inbound: a peer network delivers ---------------------------------

    async def receive(self, message: InboundMessage) -> ReceiveOutcome:
        keys = inbound_keys(message.peer, message.message_id, message.instance_id)
        structlog.contextvars.bind_contextvars(message_id=message.message_id, peer=message.peer)
        for key in keys:  # a cheap look first; accept below settles any race
            known = await self.store.find_by_key(key)
            if known is not None:
                return await self._duplicate(known)
        checked = await self.checker.check(message.payload, self.settings.limits)
        problems = checked.problems()
        if problems:
            self.metrics.rejected.labels("inbound", "validation").inc()
            raise DocumentRejected(
                "the document failed validation",
                fatal=checked.report.fatal_ids,
                errors=list(problems)[:20],
            )
        self._check_envelope(message, checked)
        recipient = checked.facts.buyer
        if recipient is None or await self.receivable(recipient) is None:
            self.metrics.rejected.labels("inbound", "not_serviced").inc()
            raise NotServiced(f"recipient {recipient or '(none)'} is not served by this network")
        now = self.clock()
        agreement = self._inbound_agreement(message, checked, now)
        doc_id = str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(document_id=doc_id)
        meta = meta_of(
            doc_id,
            Direction.INBOUND,
            checked.facts,
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
            meta, message.payload, [event], keys=keys, fingerprint=meta.sha256, job=job
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

    def _check_envelope(self, message: InboundMessage, checked: Checked) -> None:
        """Refuse a document its envelope misdescribes: routing on one and
        booking the other would deliver it to the wrong party."""
        mismatches = envelope.envelope_mismatches(
            sender=message.sender,
            receiver=message.recipient,
            document_type=message.document_type,
            process=message.process,
            facts=checked.facts,
        )
        if mismatches:
            self.metrics.rejected.labels("inbound", "envelope").inc()
            raise envelope.refusal(mismatches)

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
