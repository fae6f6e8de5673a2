"""The label/value rows of a printed invoice's blocks: who, what, totals, payment.

Pure; the words and number formats come from ``printwords``.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.channels.print_layout import Party, PrintDocument
from gateway.channels.printwords import (
    iban,
)
from gateway.model import DocumentKind


def _present(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in rows if v]


def identity_rows(party: Party) -> list[tuple[str, str]]:
    """The seller's identifiers for the letterhead."""
    legal = party.legal_name if party.legal_name != party.name else ""
    return _present(
        [
            ("VAT id", party.vat_id),
            ("Company", legal),
            ("Reg. no.", party.company_id),
            ("Contact", party.contact),
        ]
    )


def return_address(party: Party) -> str:
    """The one-line sender address shown small above the recipient."""
    return " · ".join(filter(None, (party.name, *party.address)))


def info_rows(doc: PrintDocument) -> list[tuple[str, str]]:
    """The block beside the address: dates and references."""
    return _present(
        [
            ("Date", doc.issue_date),
            ("Due date", doc.due_date),
            ("Corrects", ", ".join(doc.corrects)),
            ("Order ref.", doc.order_reference),
            ("Your ref.", doc.buyer_reference),
            ("Delivery", doc.delivery_date),
            ("Period", doc.period),
            ("Customer", doc.buyer.legal_name or doc.buyer.name),
            ("Customer VAT id", doc.buyer.vat_id),
            ("Currency", doc.currency),
        ]
    )


def total_rows(doc: PrintDocument) -> list[tuple[str, Decimal | None]]:
    """The totals, from the sum of the lines to the amount due (always last)."""
    t = doc.totals
    rows = [
        ("Sum of line net amounts", t.line_net),
        ("Allowances", t.allowances),
        ("Charges", t.charges),
        ("Total without VAT", t.tax_exclusive),
        ("VAT", t.vat),
        ("Total with VAT", t.tax_inclusive),
        ("Paid in advance", t.prepaid),
        ("Rounding", t.rounding),
    ]
    # Zero allowances or prepayments are noise; a zero VAT is information.
    kept = [(k, v) for k, v in rows if v is not None and (v or k in ("VAT", "Total with VAT"))]
    due = "Amount credited" if doc.kind is DocumentKind.CREDIT_NOTE else "Amount due"
    return [*kept, (due, t.payable)]


def payment_rows(doc: PrintDocument) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for p in doc.payments:
        rows += [
            ("Payment by", p.means),
            ("IBAN", iban(p.iban)),
            ("BIC", p.bic),
            ("Account holder", p.account_name),
            ("Payment reference", p.reference),
            ("Mandate", p.mandate),
            ("Debited account", iban(p.debited)),
        ]
    if doc.kind is DocumentKind.INVOICE:
        rows.append(("Due date", doc.due_date))
    rows.append(("Terms", doc.payment_terms))
    return _present(rows)
