"""Interconnection agreements and mandates: the terms admins write in
gateway.toml, and the pure checks and sums made with them.

An agreement binds this network to one peer network. Its technical terms
say what may flow (directions, document types, size, validity, whether
documents must be signed, how long a delivery may keep trying); its
financial terms say what each document costs and who pays, which the
settlement report adds up per month.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

DIRECTIONS = ("send", "receive", "both")
PAYERS = ("sender", "receiver")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Fees:
    per_document: Decimal = Decimal(0)
    payer: str = "sender"  # which network pays for each document: the sending or the receiving one
    monthly_free: int = 0  # documents per month and direction that cost nothing
    monthly_cap: Decimal = Decimal(0)  # most due per month and direction; 0: no cap
    currency: str = "EUR"


@dataclass(frozen=True)
class Agreement:
    id: str = ""
    direction: str = "both"  # send | receive | both, seen from this network
    document_types: tuple[str, ...] = ()  # empty: every document type
    valid_from: date | None = None
    valid_until: date | None = None
    max_document_bytes: int = 0  # 0: the network's own limit
    require_document_signature: bool = False
    delivery_deadline_hours: float = 0  # 0: the network's delivery.give_up_after_seconds
    fees: Fees = field(default_factory=Fees)

    def allows(self, way: str) -> bool:
        return self.direction in ("both", way)


def refusal(
    agreement: Agreement,
    *,
    way: str,
    document_type: str,
    size: int,
    signed: bool,
    today: date,
) -> str:
    """Why this agreement does not cover a document ('' when it does).

    ``way`` is "send" (from us to the peer) or "receive" (from the peer to us).
    """
    name = f"agreement {agreement.id}" if agreement.id else "the agreement"
    if not agreement.allows(way):
        if way == "send":
            return f"{name} only allows receiving from this network, not sending to it"
        return f"{name} only allows sending to this network, not receiving from it"
    if agreement.valid_from and today < agreement.valid_from:
        return f"{name} is valid only from {agreement.valid_from.isoformat()}"
    if agreement.valid_until and today > agreement.valid_until:
        return f"{name} expired on {agreement.valid_until.isoformat()}"
    if agreement.document_types and document_type not in agreement.document_types:
        return f"{name} does not cover this document type"
    if agreement.max_document_bytes and size > agreement.max_document_bytes:
        return (
            f"the document ({size} bytes) is larger than {name} allows "
            f"({agreement.max_document_bytes} bytes)"
        )
    if agreement.require_document_signature and not signed:
        return f"{name} requires documents to carry a document signature"
    return ""


@dataclass(frozen=True)
class Mandate:
    """Where network delivery is legally required, so paper is refused."""

    country: str  # ISO 3166-1 alpha-2
    scope: str  # "domestic-b2b": seller and buyer in ``country``, buyer a business
    start: date
    reference: str = ""  # the law or decree, shown in refusals

    def applies(
        self, *, seller_country: str, buyer_country: str, buyer_is_business: bool, today: date
    ) -> bool:
        if today < self.start:
            return False
        return (
            seller_country == self.country and buyer_country == self.country and buyer_is_business
        )


def mandate_for(
    mandates: Iterable[Mandate],
    *,
    seller_country: str,
    buyer_country: str,
    buyer_is_business: bool,
    today: date,
) -> Mandate | None:
    for m in mandates:
        if m.applies(
            seller_country=seller_country,
            buyer_country=buyer_country,
            buyer_is_business=buyer_is_business,
            today=today,
        ):
            return m
    return None


@dataclass(frozen=True)
class Exchange:
    """One document exchanged with a peer network under an agreement."""

    document_id: str
    month: str  # YYYY-MM, when it was delivered (sent) or received
    peer: str
    agreement: str
    way: str  # "send" or "receive"
    document_type: str


@dataclass(frozen=True)
class ExchangeCount:
    peer: str
    agreement: str
    way: str
    document_type: str
    documents: int


@dataclass(frozen=True)
class Due:
    """What one month of traffic in one direction costs under an agreement."""

    documents: int
    billable: int
    amount: Decimal
    payer: str  # "us" or the peer network's name
    payee: str


def fees_due(fees: Fees, *, documents: int, way: str, peer: str) -> Due:
    """Fees for ``documents`` exchanged in one month in one direction.

    ``way`` is "send" (we sent them) or "receive" (the peer sent them). With
    payer "sender", the sending network pays the receiving one.
    """
    billable = max(0, documents - fees.monthly_free)
    amount = (fees.per_document * billable).quantize(CENT)
    if fees.monthly_cap and amount > fees.monthly_cap:
        amount = fees.monthly_cap.quantize(CENT)
    we_send = way == "send"
    we_pay = we_send if fees.payer == "sender" else not we_send
    payer, payee = ("us", peer) if we_pay else (peer, "us")
    return Due(documents, billable, amount, payer, payee)
