"""The terms of an interconnection agreement, as values.

What admins write under ``[[agreements]]`` (direction, document types,
validity, fees) and the traffic counted under it. The decisions made with
these terms (is a document covered, what is due) are in ``gateway.routing.agreements``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

DIRECTIONS = ("send", "receive", "both")


PAYERS = ("sender", "receiver")


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
