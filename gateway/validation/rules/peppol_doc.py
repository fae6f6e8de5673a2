"""PEPPOL-EN16931-R0xx/R1xx: document, party, allowance, payment, currency and period rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.model import DocumentKind
from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    anywhere,
    both,
    cac,
    either,
    kids,
    normalize_space,
    normalize_space_of,
    parent_is,
    string_value,
    text_of,
)
from gateway.validation.rules.kernel_numbers import compare_untyped
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_amounts import (
    ALLOWANCES,
    BASE_QUANTITY,
    CURRENCY,
    DIRECT_DEBIT,
    PRICE_ALLOWANCE,
    line_period,
)
from gateway.validation.rules.peppol_lines import LINE_RULES
from gateway.validation.rules.peppol_vars import both_de, need, profile
from gateway.validation.rules.shape import Assert, Context, Pattern

CUSTOMIZATION: Final = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


def _never(e: Element, doc: Doc) -> bool:
    return False


def _root(doc: Doc) -> list[Element]:
    return [doc.root]


# --- M26: empty elements ----------------------------------------------------------


def _empty_elements(doc: Doc) -> list[Element]:
    """``//*[not(*) and not(normalize-space())]``: no child element, blank text
    (comments and processing instructions are neither); found by the model's walk."""
    return doc.empty


EMPTY: Final = Pattern(
    (
        Context(
            "an element without child elements",
            _empty_elements,
            (
                Assert(
                    "PEPPOL-EN16931-R008",
                    "fatal",
                    "A document shall not contain empty elements.",
                    _never,
                ),
            ),
        ),
    )
)


# --- M27: credit note project reference -------------------------------------------


def _credit_note_root(doc: Doc) -> list[Element]:
    return [doc.root] if doc.kind is DocumentKind.CREDIT_NOTE else []


def _one_project(e: Element, doc: Doc) -> bool:
    refs = doc.all("cac:AdditionalDocumentReference")
    code = Cbc.DocumentTypeCode
    return sum(1 for r in refs if any(string_value(c) == "50" for c in kids(doc, r, code))) <= 1


PROJECT: Final = Pattern(
    (
        Context(
            "the credit note",
            _credit_note_root,
            (
                Assert(
                    "PEPPOL-EN16931-R080",
                    "fatal",
                    "A credit note may carry at most one project reference (BT-11).",
                    _one_project,
                ),
            ),
        ),
    )
)


# --- M28: the document --------------------------------------------------------------


def _notes(e: Element, doc: Doc) -> bool:
    return len(doc.all("cbc:Note")) <= 1 or bool(need(both_de(doc)))


def _customization(e: Element, doc: Doc) -> bool:
    value = normalize_space(text_of(doc.all("cbc:CustomizationID")) or "")
    return value.startswith(CUSTOMIZATION) and "::" not in value


def _tax_totals(doc: Doc, with_subtotals: bool) -> int:
    sub = Cac.TaxSubtotal
    return sum(1 for t in doc.all("cac:TaxTotal") if bool(kids(doc, t, sub)) is with_subtotals)


def _le_zero(v: float) -> bool:
    return v <= 0


def _ge_zero(v: float) -> bool:
    return v >= 0


def _same_sign(e: Element, doc: Doc) -> bool:
    """R055: the VAT totals in both currencies are both <= 0 or both >= 0."""
    if not doc.has("cbc:TaxCurrencyCode"):
        return True
    return either(
        lambda: both(_signed(doc, _TAX, _le_zero), _signed(doc, _DOCUMENT, _le_zero)),
        lambda: both(_signed(doc, _TAX, _ge_zero), _signed(doc, _DOCUMENT, _ge_zero)),
    )


_TAX: Final = "cbc:TaxCurrencyCode"
_DOCUMENT: Final = "cbc:DocumentCurrencyCode"


# Module functions rather than nested ones: once compiled, a nested function
# that another closure calls forms a reference cycle with it (see vat_breakdown).
def _in_currency(doc: Doc, name: str) -> list[Element]:
    amounts = doc.all("cac:TaxTotal/cbc:TaxAmount")
    if not amounts:
        return []
    code = normalize_space_of(doc.all(name))
    return [a for a in amounts if a.get("currencyID") == code]


def _signed(doc: Doc, name: str, op: Callable[[float], bool]) -> Callable[[], bool]:
    return lambda: compare_untyped(_in_currency(doc, name), op)


DOCUMENT: Final = Context(
    "the invoice or credit note",
    _root,
    (
        Assert(
            "PEPPOL-EN16931-R001",
            "fatal",
            "The business process type (BT-23) shall be given.",
            lambda e, d: d.has("cbc:ProfileID"),
        ),
        Assert(
            "PEPPOL-EN16931-R007",
            "fatal",
            "The business process type (BT-23) shall be an approved Peppol process.",
            lambda e, d: need(profile(d)) != "Unknown",
        ),
        Assert(
            "PEPPOL-EN16931-R002",
            "fatal",
            "At most one invoice note (BG-1) unless seller and buyer are both in Germany.",
            _notes,
        ),
        Assert(
            "PEPPOL-EN16931-R003",
            "fatal",
            "A buyer reference (BT-10) or a purchase order reference (BT-13) shall be given.",
            lambda e, d: d.has("cbc:BuyerReference") or d.has("cac:OrderReference/cbc:ID"),
        ),
        Assert(
            "PEPPOL-EN16931-R004",
            "fatal",
            "The specification identifier (BT-24) shall be the Peppol BIS Billing 3.0 one.",
            _customization,
        ),
        Assert(
            "PEPPOL-EN16931-R053",
            "fatal",
            "Exactly one VAT total with a VAT breakdown (BG-23) shall be given.",
            lambda e, d: _tax_totals(d, True) == 1,
        ),
        Assert(
            "PEPPOL-EN16931-R054",
            "fatal",
            "One VAT total without breakdown (BT-111) exactly when a VAT accounting "
            "currency (BT-6) is given.",
            lambda e, d: _tax_totals(d, False) == (1 if d.has("cbc:TaxCurrencyCode") else 0),
        ),
        Assert(
            "PEPPOL-EN16931-R055",
            "fatal",
            "The invoice total VAT amount (BT-110) and the VAT amount in accounting currency "
            "(BT-111) shall have the same sign.",
            _same_sign,
        ),
    ),
)


def _tax_currency_differs(e: Element, doc: Doc) -> bool:
    parent = e.getparent()
    others = [] if parent is None else kids(doc, parent, Cbc.DocumentCurrencyCode)
    return normalize_space(text_of([e]) or "") != normalize_space(text_of(others) or "")


TAX_CURRENCY: Final = Context(
    "the VAT accounting currency code",
    lambda doc: anywhere(doc, Cbc.TaxCurrencyCode),
    (
        Assert(
            "PEPPOL-EN16931-R005",
            "fatal",
            "The VAT accounting currency (BT-6) shall differ from the invoice currency (BT-5).",
            _tax_currency_differs,
        ),
    ),
)


def _parties(role: str) -> Context:
    tag = cac(role)
    term, rule, who = {
        "AccountingCustomerParty": ("BT-49", "PEPPOL-EN16931-R010", "buyer"),
        "AccountingSupplierParty": ("BT-34", "PEPPOL-EN16931-R020", "seller"),
    }[role]
    return Context(
        f"the {who}",
        lambda doc: [p for p in anywhere(doc, Cac.Party) if parent_is(p, tag)],
        (
            Assert(
                rule,
                "fatal",
                f"The {who} electronic address ({term}) shall be given.",
                lambda e, d: bool(kids(d, e, Cbc.EndpointID)),
            ),
        ),
    )


TRANSACTION: Final = Pattern(
    (
        DOCUMENT,
        TAX_CURRENCY,
        _parties("AccountingCustomerParty"),
        _parties("AccountingSupplierParty"),
        *ALLOWANCES,
        DIRECT_DEBIT,
        CURRENCY,
        line_period("StartDate"),
        line_period("EndDate"),
        LINE_RULES,
        PRICE_ALLOWANCE,
        BASE_QUANTITY,
    )
)
