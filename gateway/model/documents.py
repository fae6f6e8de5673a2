"""Documents as the gateway keeps them: their meta data, status history,
outbox jobs and route decisions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.model.ids import DocumentKind


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"  # submitted by one of our senders
    INBOUND = "inbound"  # received from a peer network


class State(enum.StrEnum):
    """Each step of a document's life. Final states end the history."""

    RECEIVED = "received"
    REJECTED = "rejected"
    ROUTED = "routed"
    ATTEMPT_FAILED = "attempt_failed"
    DEFERRED = "deferred"  # waiting for a busy or failing peer; not an attempt
    FALLBACK = "fallback"  # a reception channel could not take it: the next one is tried
    REQUEUED = "requeued"  # an admin sent a failed or refused document out again
    DELIVERED = "delivered"
    PRINTED = "printed"
    REFUSED = "refused"  # no one may take it: no route allowed, or the peer refused it
    FAILED = "failed"  # it could not be delivered: retries exhausted, or a problem of ours
    # After delivery: what the recipient or the print house did with it.
    RETRIEVED = "retrieved"  # the recipient took it from its inbox (acknowledged)
    POSTED = "posted"  # the print house posted the letter
    RETURNED = "returned"  # the letter came back undeliverable

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {
        State.REJECTED,
        State.DELIVERED,
        State.PRINTED,
        State.REFUSED,
        State.FAILED,
        State.RETRIEVED,
        State.POSTED,
        State.RETURNED,
    }
)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One entry of a document's status history."""

    state: State
    at: datetime
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state.value, "at": self.at.isoformat()}
        if self.reason:
            out["reason"] = self.reason
        if self.details:
            out["details"] = self.details
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusEvent:
        return cls(
            state=State(data["state"]),
            at=datetime.fromisoformat(data["at"]),
            reason=data.get("reason", ""),
            details=data.get("details", {}),
        )


@dataclass(frozen=True, slots=True)
class DocumentMeta:
    """What the gateway knows about a document besides its bytes."""

    id: str
    direction: Direction
    kind: DocumentKind
    sender: str  # participant id of the seller / issuer, as str(ParticipantId)
    recipient: str  # participant id of the buyer / receiver
    document_type: str  # Peppol document type id value
    process: str  # Peppol process id value
    business_id: str  # cbc:ID of the invoice or credit note
    sha256: str  # hex digest of the payload
    size: int
    received_at: datetime
    origin: str = ""  # sender token name (outbound) or peer network name (inbound)
    message_id: str = ""  # transport message id: the one we sent, or the one we received
    seller_country: str = ""
    buyer_country: str = ""
    buyer_is_business: bool = False
    signed: bool = False
    buyer_name: str = ""
    # What a recipient's inbox lists (read from the document at acceptance).
    seller_name: str = ""
    issue_date: str = ""  # YYYY-MM-DD, "" when the document has none
    due_date: str = ""
    currency: str = ""
    payable_amount: str = ""  # BT-115 as written in the document

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction.value,
            "kind": self.kind.value,
            "sender": self.sender,
            "recipient": self.recipient,
            "document_type": self.document_type,
            "process": self.process,
            "business_id": self.business_id,
            "sha256": self.sha256,
            "size": self.size,
            "received_at": self.received_at.isoformat(),
            "origin": self.origin,
            "message_id": self.message_id,
            "seller_country": self.seller_country,
            "buyer_country": self.buyer_country,
            "buyer_is_business": self.buyer_is_business,
            "signed": self.signed,
            "buyer_name": self.buyer_name,
            "seller_name": self.seller_name,
            "issue_date": self.issue_date,
            "due_date": self.due_date,
            "currency": self.currency,
            "payable_amount": self.payable_amount,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentMeta:
        return cls(
            id=data["id"],
            direction=Direction(data["direction"]),
            kind=DocumentKind(data["kind"]),
            sender=data["sender"],
            recipient=data["recipient"],
            document_type=data["document_type"],
            process=data["process"],
            business_id=data["business_id"],
            sha256=data["sha256"],
            size=int(data["size"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            origin=data.get("origin", ""),
            message_id=data.get("message_id", ""),
            seller_country=data.get("seller_country", ""),
            buyer_country=data.get("buyer_country", ""),
            buyer_is_business=bool(data.get("buyer_is_business", False)),
            signed=bool(data.get("signed", False)),
            buyer_name=data.get("buyer_name", ""),
            seller_name=data.get("seller_name", ""),
            issue_date=data.get("issue_date", ""),
            due_date=data.get("due_date", ""),
            currency=data.get("currency", ""),
            payable_amount=data.get("payable_amount", ""),
        )


@dataclass(frozen=True, slots=True)
class OutboxJob:
    """A pending delivery of one document.

    ``first_attempt_at`` anchors the give-up deadline; ``attempts`` counts the
    attempts already made; ``next_attempt_at`` is when it is due.
    """

    id: str
    document_id: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """The outcome of storing a new document under an optional idempotency key."""

    document_id: str
    created: bool  # False: one of the keys was already claimed; document_id holds it
    fingerprint_matches: bool = True  # False: same key reused for a different body
    key: str = ""  # when not created: the claimed key that was found


class RouteKind(enum.StrEnum):
    LOCAL = "local"  # one of our own participants, by the channel they chose
    PEER = "peer"  # a participant of an interconnected network
    PRINT = "print"  # a recipient in no network: paper
    REFUSE = "refuse"  # no lawful or possible route


@dataclass(frozen=True, slots=True)
class RouteDecision:
    kind: RouteKind
    target: str  # participant channel ("portal", ...), peer network name, or ""
    reasons: tuple[str, ...]
    agreement: str = ""  # the agreement it travels under (peer routes)
    prospect: bool = False  # refused for want of a network: a company to onboard
    # Local and print routes: the recipient's reception channels, in the order
    # they are tried (the first that takes the document delivers it).
    channels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "route": self.kind.value,
            "target": self.target,
            "reasons": list(self.reasons),
        }
        if self.agreement:
            out["agreement"] = self.agreement
        if self.prospect:
            out["prospect"] = True
        if self.channels:
            out["channels"] = list(self.channels)
        return out


def status_view(meta: DocumentMeta, history: list[StatusEvent]) -> dict[str, Any]:
    """A document and its history as the API and the CLI show them."""
    last = history[-1].state if history else None
    return {
        "id": meta.id,
        "document": meta.to_json(),
        "status": last.value if last else None,
        "final": bool(last and last.final),
        "history": [e.to_json() for e in history],
    }
