"""IT-R-*, NL-R-*: Italian and Dutch rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import gateway.validation.rules.kernel as xp
from gateway.model import DocumentKind
from gateway.validation.rules.kernel_numbers import decimal_of
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_vars import (
    customer_is,
    supplier_country,
    supplier_is,
    tax_rep_is,
)
from gateway.validation.rules.shape import Assert, Context, Pattern

_IT_TAX_ID: Final = re.compile(r"[A-Z0-9]{11,16}")


def _under(tag: str, *parents: str) -> Callable[[Doc], list[Element]]:
    """Elements ``tag`` whose ancestors, nearest first, are ``parents`` (any depth)."""

    def nodes(doc: Doc) -> list[Element]:
        out = []
        for e in xp.anywhere(doc, tag):
            node = e
            for p in parents:
                up = node.getparent()
                if up is None or up.tag != p:
                    break
                node = up
            else:
                out.append(e)
        return out

    return nodes


_SUPPLIER_PARTY = _under(xp.Cac.Party, xp.Cac.AccountingSupplierParty)


def _italian(doc: Doc) -> list[Element]:
    return _SUPPLIER_PARTY(doc) if supplier_country(doc) == "IT" else []


def _italian_tax_schemes(doc: Doc) -> list[Element]:
    out = []
    for party in _italian(doc):
        for s in xp.kids(doc, party, xp.Cac.PartyTaxScheme):
            try:
                if xp.normalize_space_of(xp.below(doc, s, xp.Cac.TaxScheme, xp.Cbc.ID)) != "VAT":
                    out.append(s)
            except xp.DynamicError:
                continue
    return out


def _has(*tags: str) -> Callable[[Element, Doc], bool]:
    return lambda e, d: bool(xp.below(d, e, *tags))


ITALY: Final = Pattern(
    (
        Context(
            "a tax registration of an Italian seller",
            _italian_tax_schemes,
            (
                Assert(
                    "IT-R-001",
                    "fatal",
                    "An Italian seller's tax registration (BT-32) shall be 11 to 16 capital "
                    "letters or digits.",
                    lambda e, d: (
                        _IT_TAX_ID.fullmatch(xp.normalize_space_of(xp.kids(d, e, xp.Cbc.CompanyID)))
                        is not None
                    ),
                ),
            ),
        ),
        Context(
            "an Italian seller",
            _italian,
            (
                Assert(
                    "IT-R-002",
                    "fatal",
                    "An Italian seller's address shall give the street (BT-35).",
                    _has(xp.Cac.PostalAddress, xp.Cbc.StreetName),
                ),
                Assert(
                    "IT-R-003",
                    "fatal",
                    "An Italian seller's address shall give the city (BT-37).",
                    _has(xp.Cac.PostalAddress, xp.Cbc.CityName),
                ),
                Assert(
                    "IT-R-004",
                    "fatal",
                    "An Italian seller's address shall give the post code (BT-38).",
                    _has(xp.Cac.PostalAddress, xp.Cbc.PostalZone),
                ),
            ),
        ),
    ),
    when=lambda d: supplier_country(d) == "IT",
)


# --- Netherlands ----------------------------------------------------------------------


def _nl_supplier(doc: Doc) -> bool:
    return bool(supplier_is(doc, "NL"))


def _nl_both(doc: Doc) -> bool:
    return bool(supplier_is(doc, "NL")) and bool(customer_is(doc, "NL"))


def _when(
    flag: Callable[[Doc], bool], nodes: Callable[[Doc], list[Element]]
) -> Callable[[Doc], list[Element]]:
    return lambda doc: nodes(doc) if flag(doc) else []


def _full_address(e: Element, doc: Doc) -> bool:
    return all(xp.kids(doc, e, xp.cbc(n)) for n in ("StreetName", "CityName", "PostalZone"))


def _kvk_or_oin(e: Element, doc: Doc) -> bool:
    schemes = f" {e.get('schemeID') or ''} "
    return (" 0106 " in schemes or " 0190 " in schemes) and xp.normalize_space(
        xp.string_value(e)
    ) != ""


def _payment_needed(e: Element, doc: Doc) -> bool:
    invoice = doc.kind is DocumentKind.INVOICE
    # Module functions rather than nested ones: once compiled, a nested function
    # that another closure calls forms a reference cycle with it (see vat_breakdown).
    return xp.either(
        lambda: xp.both(lambda: invoice, lambda: _payable_at_most_zero(doc, e)),
        lambda: xp.both(lambda: not invoice, lambda: _payable_at_least_zero(doc, e)),
        lambda: bool(xp.anywhere(doc, xp.Cac.PaymentMeans)),
    )


def _payable_at_most_zero(doc: Doc, e: Element) -> bool:
    value = decimal_of(xp.kids(doc, e, xp.Cbc.PayableAmount))
    return value is not None and value <= 0


def _payable_at_least_zero(doc: Doc, e: Element) -> bool:
    value = decimal_of(xp.kids(doc, e, xp.Cbc.PayableAmount))
    return value is not None and value >= 0


_NL_MEANS: Final = ("30", "48", "49", "57", "58", "59")

NETHERLANDS: Final = Pattern(
    (
        Context(
            "the credit note type code of a Dutch seller",
            _when(_nl_supplier, lambda d: xp.anywhere(d, xp.Cbc.CreditNoteTypeCode)),
            (
                Assert(
                    "NL-R-001",
                    "fatal",
                    "A Dutch seller's credit note shall reference the invoice it credits (BT-25).",
                    lambda e, d: d.has("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
                ),
            ),
        ),
        Context(
            "the address of a Dutch seller",
            _when(
                _nl_supplier,
                _under(xp.Cac.PostalAddress, xp.Cac.Party, xp.Cac.AccountingSupplierParty),
            ),
            (
                Assert(
                    "NL-R-002",
                    "fatal",
                    "A Dutch seller's address shall give street (BT-35), city (BT-37) and post "
                    "code (BT-38).",
                    _full_address,
                ),
            ),
        ),
        Context(
            "the legal registration identifier of a Dutch seller",
            _when(
                _nl_supplier,
                _under(
                    xp.Cbc.CompanyID,
                    xp.Cac.PartyLegalEntity,
                    xp.Cac.Party,
                    xp.Cac.AccountingSupplierParty,
                ),
            ),
            (
                Assert(
                    "NL-R-003",
                    "fatal",
                    "A Dutch seller's legal registration identifier (BT-30) shall be a KvK or OIN "
                    "number (scheme 0106 or 0190).",
                    _kvk_or_oin,
                ),
            ),
        ),
        Context(
            "the address of a Dutch buyer of a Dutch seller",
            _when(
                _nl_both, _under(xp.Cac.PostalAddress, xp.Cac.Party, xp.Cac.AccountingCustomerParty)
            ),
            (
                Assert(
                    "NL-R-004",
                    "fatal",
                    "A Dutch buyer's address shall give street (BT-50), city (BT-52) and post "
                    "code (BT-53).",
                    _full_address,
                ),
            ),
        ),
        Context(
            "the legal registration identifier of a Dutch buyer of a Dutch seller",
            _when(
                _nl_both,
                _under(
                    xp.Cbc.CompanyID,
                    xp.Cac.PartyLegalEntity,
                    xp.Cac.Party,
                    xp.Cac.AccountingCustomerParty,
                ),
            ),
            (
                Assert(
                    "NL-R-005",
                    "fatal",
                    "A Dutch buyer's legal registration identifier (BT-47) shall be a KvK or OIN "
                    "number (scheme 0106 or 0190).",
                    _kvk_or_oin,
                ),
            ),
        ),
        Context(
            "the address of a Dutch tax representative of a Dutch seller",
            _when(
                lambda d: _nl_supplier(d) and bool(tax_rep_is(d, "NL")),
                _under(xp.Cac.PostalAddress, xp.Cac.TaxRepresentativeParty),
            ),
            (
                Assert(
                    "NL-R-006",
                    "fatal",
                    "A Dutch tax representative's address shall give street (BT-64), city "
                    "(BT-66) and post code (BT-67).",
                    _full_address,
                ),
            ),
        ),
        Context(
            "the totals of a Dutch seller's document",
            _when(_nl_supplier, lambda d: xp.anywhere(d, xp.Cac.LegalMonetaryTotal)),
            (
                Assert(
                    "NL-R-007",
                    "fatal",
                    "A Dutch seller shall give payment instructions (BG-16) when the buyer has "
                    "to pay.",
                    _payment_needed,
                ),
            ),
        ),
        Context(
            "a payment means between Dutch parties",
            _when(_nl_both, lambda d: xp.anywhere(d, xp.Cac.PaymentMeans)),
            (
                Assert(
                    "NL-R-008",
                    "fatal",
                    "Between Dutch parties the payment means code (BT-81) shall be 30, 48, 49, "
                    "57, 58 or 59.",
                    lambda e, d: (
                        xp.normalize_space_of(xp.kids(d, e, xp.Cbc.PaymentMeansCode)) in _NL_MEANS
                    ),
                ),
            ),
        ),
        Context(
            "an order line reference of a Dutch seller",
            _when(
                _nl_supplier,
                lambda d: [
                    e
                    for e in xp.anywhere(d, xp.Cbc.LineID)
                    if xp.parent_is(e, xp.Cac.OrderLineReference)
                ],
            ),
            (
                Assert(
                    "NL-R-009",
                    "fatal",
                    "A referenced order line (BT-132) needs the order reference (BT-13).",
                    lambda e, d: d.has("cac:OrderReference/cbc:ID"),
                ),
            ),
        ),
    ),
    when=_nl_supplier,
)
