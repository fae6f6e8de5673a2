"""PEPPOL-EN16931-CL0xx, P01xx, F001: restricted code lists and date formats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    anywhere,
    both,
    cbc,
    either,
    kids,
    memo,
    normalize_space,
    parent_is,
    string_value,
    text_of,
)
from gateway.validation.rules.kernel_numbers import castable_date
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_amounts import AMOUNTS
from gateway.validation.rules.peppol_codes import (
    CREDIT_NOTE_TYPES,
    EAS,
    INVOICE_TYPES,
    ISO4217,
    MIME_CODES,
    UNCL2005,
    UNCL5189,
    UNCL7161,
)
from gateway.validation.rules.peppol_vars import both_de, need, profile
from gateway.validation.rules.shape import Assert, Context, Failing, Pattern

DATES: Final = tuple(
    cbc(n)
    for n in ["IssueDate", "DueDate", "TaxPointDate", "StartDate", "EndDate", "ActualDeliveryDate"]
)
_ALL_AMOUNTS: Final = (*AMOUNTS, Cbc.TaxAmount)
_NONE: Final[list[Element]] = []
# (exemption reason code, required VAT category, rule id)
EXEMPTIONS: Final = (
    ("VATEX-EU-G", "G", "PEPPOL-EN16931-P0104"),
    ("VATEX-EU-O", "O", "PEPPOL-EN16931-P0105"),
    ("VATEX-EU-IC", "K", "PEPPOL-EN16931-P0106"),
    ("VATEX-EU-AE", "AE", "PEPPOL-EN16931-P0107"),
    ("VATEX-EU-D", "E", "PEPPOL-EN16931-P0108"),
    ("VATEX-EU-F", "E", "PEPPOL-EN16931-P0109"),
    ("VATEX-EU-I", "E", "PEPPOL-EN16931-P0110"),
    ("VATEX-EU-J", "E", "PEPPOL-EN16931-P0111"),
)


def _attribute_not_in(name: str, codes: frozenset[str]) -> Failing:
    """The nodes whose attribute ``name`` is not one of ``codes`` (as written)."""
    return lambda nodes, doc: [e for e in nodes if e.get(name) not in codes]


def _text_in(codes: frozenset[str]) -> Callable[[Element, Doc], bool]:
    """``normalize-space(text())`` is one of ``codes``."""
    return lambda e, d: normalize_space(text_of([e]) or "") in codes


def _reason_codes_by_indicator(doc: Doc) -> dict[str, list[Element]]:
    """Reason codes of allowances ('false') and charges ('true'), by raw indicator."""
    found: dict[str, list[Element]] = {"false": [], "true": []}
    for code in anywhere(doc, Cbc.AllowanceChargeReasonCode):
        parent = code.getparent()
        if parent is None or parent.tag != Cac.AllowanceCharge:
            continue
        indicators = {string_value(c) for c in kids(doc, parent, Cbc.ChargeIndicator)}
        for indicator in ("false", "true"):
            if indicator in indicators:
                found[indicator].append(code)
    return found


def _reason_codes(indicator: str) -> Callable[[Doc], list[Element]]:
    return lambda doc: memo(doc, "peppol.reasonCodes", _reason_codes_by_indicator)[indicator]


def _attachments(doc: Doc) -> list[Element]:
    return [
        e for e in anywhere(doc, Cbc.EmbeddedDocumentBinaryObject) if e.get("mimeCode") is not None
    ]


def _profile_code(codes: frozenset[str]) -> Callable[[Element, Doc], bool]:
    def test(e: Element, doc: Doc) -> bool:
        return either(
            lambda: need(profile(doc)) not in ("01", "02"),
            lambda: normalize_space(text_of([e]) or "") in codes,
        )

    return test


def _german_type(e: Element, doc: Doc) -> bool:
    return normalize_space(string_value(e)) not in ("326", "384") or bool(need(both_de(doc)))


def _date_format(e: Element, doc: Doc) -> bool:
    """``string-length(text()) = 10 and (string(.) castable as xs:date)``."""
    text = e.text
    if not len(e):
        return text is not None and len(text) == 10 and castable_date(text)
    return both(lambda: len(text_of([e]) or "") == 10, lambda: castable_date(string_value(e)))


def _categories_by_exemption(doc: Doc) -> dict[str, list[Element]]:
    """``cac:TaxCategory[upper-case(cbc:TaxExemptionReasonCode) = code]`` for every code."""
    found: dict[str, list[Element]] = {}
    for reason in anywhere(doc, Cbc.TaxExemptionReasonCode):
        category = reason.getparent()
        if category is None or category.tag != Cac.TaxCategory:
            continue
        reasons = kids(doc, category, Cbc.TaxExemptionReasonCode)
        if len(reasons) == 1:  # upper-case() of two codes is an error: no match
            found.setdefault(string_value(reason).upper(), []).append(category)
    return found


def _exempt(code: str) -> Callable[[Doc], list[Element]]:
    return lambda doc: memo(doc, "peppol.exemptions", _categories_by_exemption).get(code, [])


def _category_is(category: str) -> Callable[[Element, Doc], bool]:
    def test(e: Element, doc: Doc) -> bool:
        ids = kids(doc, e, Cbc.ID)
        if len(ids) > 1:
            raise DynamicError("a VAT category with two identifiers", schema=True)
        return normalize_space(string_value(ids[0]) if ids else "") == category

    return test


CODES: Final = Pattern(
    (
        Context(
            "an attachment with a MIME code",
            _attachments,
            (
                Assert(
                    "PEPPOL-EN16931-CL001",
                    "fatal",
                    "The attachment MIME code (BT-125) shall be one Peppol allows.",
                    lambda e, d: e.get("mimeCode") in MIME_CODES,
                    _attribute_not_in("mimeCode", MIME_CODES),
                ),
            ),
        ),
        Context(
            "an allowance reason code",
            _reason_codes("false"),
            (
                Assert(
                    "PEPPOL-EN16931-CL002",
                    "fatal",
                    "The allowance reason code (BT-98, BT-140) shall be from the Peppol subset "
                    "of UNCL 5189.",
                    _text_in(UNCL5189),
                ),
            ),
        ),
        Context(
            "a charge reason code",
            _reason_codes("true"),
            (
                Assert(
                    "PEPPOL-EN16931-CL003",
                    "fatal",
                    "The charge reason code (BT-105, BT-145) shall be from UNCL 7161.",
                    _text_in(UNCL7161),
                ),
            ),
        ),
        Context(
            "an invoice period description code",
            lambda doc: [
                e for e in anywhere(doc, Cbc.DescriptionCode) if parent_is(e, Cac.InvoicePeriod)
            ],
            (
                Assert(
                    "PEPPOL-EN16931-CL006",
                    "fatal",
                    "The value added tax point date code (BT-8) shall be from UNCL 2005 "
                    "(3, 35 or 432).",
                    _text_in(UNCL2005),
                ),
            ),
        ),
        Context(
            "an amount",
            lambda doc: [a for n in _ALL_AMOUNTS for a in doc.by_tag.get(n, _NONE)],
            (
                Assert(
                    "PEPPOL-EN16931-CL007",
                    "fatal",
                    "Every amount's currency shall be an ISO 4217 currency code.",
                    lambda e, d: e.get("currencyID") in ISO4217,
                    _attribute_not_in("currencyID", ISO4217),
                ),
            ),
        ),
        Context(
            "the invoice type code",
            lambda doc: anywhere(doc, Cbc.InvoiceTypeCode),
            (
                Assert(
                    "PEPPOL-EN16931-P0100",
                    "fatal",
                    "The invoice type code (BT-3) shall be one the business process allows.",
                    _profile_code(INVOICE_TYPES),
                ),
                Assert(
                    "PEPPOL-EN16931-P0112",
                    "fatal",
                    "Invoice type codes 326 and 384 (BT-3) are only for a German seller and buyer.",
                    _german_type,
                ),
            ),
        ),
        Context(
            "the credit note type code",
            lambda doc: anywhere(doc, Cbc.CreditNoteTypeCode),
            (
                Assert(
                    "PEPPOL-EN16931-P0101",
                    "fatal",
                    "The credit note type code (BT-3) shall be one the business process allows.",
                    _profile_code(CREDIT_NOTE_TYPES),
                ),
            ),
        ),
        Context(
            "a date",
            lambda doc: [e for n in DATES for e in doc.by_tag.get(n, _NONE)],
            (
                Assert(
                    "PEPPOL-EN16931-F001",
                    "fatal",
                    "A date shall be written YYYY-MM-DD.",
                    _date_format,
                ),
            ),
        ),
        Context(
            "an electronic address with a scheme",
            lambda doc: [e for e in anywhere(doc, Cbc.EndpointID) if e.get("schemeID") is not None],
            (
                Assert(
                    "PEPPOL-EN16931-CL008",
                    "fatal",
                    "The electronic address scheme (BT-34, BT-49) shall be from the EAS code list.",
                    lambda e, d: e.get("schemeID") in EAS,
                    _attribute_not_in("schemeID", EAS),
                ),
            ),
        ),
        *(
            Context(
                f"a VAT category with exemption reason {code}",
                _exempt(code),
                (
                    Assert(
                        rule,
                        "fatal",
                        f"Exemption reason code {code} (BT-121) requires VAT category "
                        f"{category} (BT-118, BT-95, BT-102).",
                        _category_is(category),
                    ),
                ),
            )
            for code, category, rule in EXEMPTIONS
        ),
    ),
    overlapping=True,
)
