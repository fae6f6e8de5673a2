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
from datetime import date
from decimal import Decimal

from gateway.model import Agreement, Due, Fees, Mandate

CENT = Decimal("0.01")


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
