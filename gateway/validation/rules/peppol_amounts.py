"""PEPPOL-EN16931-R040..R046, R051, R061, R110, R111, R130: allowances and
charges, direct debit, amount currencies, line periods and item prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from gateway.model import DocumentKind
from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    anywhere,
    below,
    cbc,
    kids,
    memo,
    normalize_space,
    normalize_space_of,
    parent_is,
    string_value,
    text_of,
)
from gateway.validation.rules.kernel_numbers import EXACT, date_of, decimal_of
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_lines import SLACK, allowances_of, slack
from gateway.validation.rules.shape import Assert, Context

_HUNDRED: Final = Decimal(100)
_ZERO: Final = Decimal(0)
MULTIPLIER = Cbc.MultiplierFactorNumeric
BASE_AMOUNT = Cbc.BaseAmount
AMOUNT = Cbc.Amount
CHARGE_INDICATOR = Cbc.ChargeIndicator
# Amount elements whose currency must be the invoice currency (cbc:TaxAmount
# only in a VAT breakdown or a total that has one).
AMOUNTS: Final = tuple(
    cbc(n)
    for n in [
        "Amount",
        "BaseAmount",
        "PriceAmount",
        "TaxableAmount",
        "LineExtensionAmount",
        "TaxExclusiveAmount",
        "TaxInclusiveAmount",
        "AllowanceTotalAmount",
        "ChargeTotalAmount",
        "PrepaidAmount",
        "PayableRoundingAmount",
        "PayableAmount",
    ]
)


_NONE: Final[list[Element]] = []


def _never(e: Element, doc: Doc) -> bool:
    return False


# --- M28: allowances and charges (document and line level) ----------------------------


def _percentage_only(doc: Doc) -> list[Element]:
    return [
        a for a in allowances_of(doc) if kids(doc, a, MULTIPLIER) and not kids(doc, a, BASE_AMOUNT)
    ]


def _base_only(doc: Doc) -> list[Element]:
    return [
        a for a in allowances_of(doc) if not kids(doc, a, MULTIPLIER) and kids(doc, a, BASE_AMOUNT)
    ]


def _amount_matches_percentage(e: Element, doc: Doc) -> bool:
    multiplier, base = kids(doc, e, MULTIPLIER), kids(doc, e, BASE_AMOUNT)
    if not (multiplier and base):
        return True
    amounts = kids(doc, e, AMOUNT)
    expected = decimal_of(amounts) if amounts else _ZERO
    assert expected is not None
    base_value, factor = decimal_of(base), decimal_of(multiplier)
    assert base_value is not None and factor is not None
    value = EXACT.divide(EXACT.multiply(base_value, factor), _HUNDRED)
    return slack(expected, value, SLACK)


def _indicator_is_boolean(e: Element, doc: Doc) -> bool:
    return normalize_space(text_of(kids(doc, e, CHARGE_INDICATOR)) or "") in ("true", "false")


ALLOWANCES: Final = (
    Context(
        "an allowance or charge with a percentage but no base amount",
        _percentage_only,
        (
            Assert(
                "PEPPOL-EN16931-R041",
                "fatal",
                "An allowance or charge percentage (BT-94, BT-101) needs its base amount "
                "(BT-93, BT-100).",
                _never,
            ),
        ),
    ),
    Context(
        "an allowance or charge with a base amount but no percentage",
        _base_only,
        (
            Assert(
                "PEPPOL-EN16931-R042",
                "fatal",
                "An allowance or charge base amount (BT-93, BT-100) needs its percentage "
                "(BT-94, BT-101).",
                _never,
            ),
        ),
    ),
    Context(
        "an allowance or charge",
        lambda doc: [
            a
            for a in allowances_of(doc)
            if bool(kids(doc, a, MULTIPLIER)) is bool(kids(doc, a, BASE_AMOUNT))
        ],
        (
            Assert(
                "PEPPOL-EN16931-R040",
                "fatal",
                "An allowance or charge amount (BT-92, BT-99) shall equal base amount times "
                "percentage / 100.",
                _amount_matches_percentage,
            ),
            Assert(
                "PEPPOL-EN16931-R043",
                "fatal",
                "The allowance/charge indicator shall be 'true' or 'false'.",
                _indicator_is_boolean,
            ),
        ),
    ),
)


def _direct_debits(doc: Doc) -> list[Element]:
    out = []
    for pm in anywhere(doc, Cac.PaymentMeans):
        try:
            if normalize_space_of(kids(doc, pm, Cbc.PaymentMeansCode)) in ("49", "59"):
                out.append(pm)
        except DynamicError:
            pass
    return out


DIRECT_DEBIT: Final = Context(
    "a direct debit payment",
    _direct_debits,
    (
        Assert(
            "PEPPOL-EN16931-R061",
            "fatal",
            "A direct debit shall give the mandate reference (BT-89).",
            lambda e, d: bool(below(d, e, Cac.PaymentMandate, Cbc.ID)),
        ),
    ),
)


def _amounts(doc: Doc) -> list[Element]:
    return memo(doc, "peppol.amounts", _find_amounts)


def _find_amounts(doc: Doc) -> list[Element]:
    by_tag = doc.by_tag
    out = [a for name in AMOUNTS for a in by_tag.get(name, _NONE)]
    for t in anywhere(doc, Cbc.TaxAmount):
        parent = t.getparent()
        if parent is not None and (
            parent.tag == Cac.TaxSubtotal
            or (parent.tag == Cac.TaxTotal and bool(kids(doc, parent, Cac.TaxSubtotal)))
        ):
            out.append(t)
    return out


def _document_currencies(doc: Doc) -> frozenset[str]:
    return frozenset(string_value(c) for c in doc.all("cbc:DocumentCurrencyCode"))


def _in_document_currency(e: Element, doc: Doc) -> bool:
    """``@currencyID = $documentCurrencyCode`` (any of them, compared as written)."""
    currencies = doc.cache.get(_CURRENCIES)
    if currencies is None:
        currencies = doc.cache[_CURRENCIES] = _document_currencies(doc)
    return e.get("currencyID") in currencies


def _not_in_document_currency(nodes: list[Element], doc: Doc) -> list[Element]:
    currencies = doc.cache.get(_CURRENCIES)
    if currencies is None:
        currencies = doc.cache[_CURRENCIES] = _document_currencies(doc)
    return [e for e in nodes if e.get("currencyID") not in currencies]


_CURRENCIES: Final = "peppol.documentCurrencies"


CURRENCY: Final = Context(
    "an amount",
    _amounts,
    (
        Assert(
            "PEPPOL-EN16931-R051",
            "fatal",
            "Every amount shall be in the invoice currency (BT-5), except the VAT total "
            "in accounting currency (BT-111).",
            _in_document_currency,
            _not_in_document_currency,
        ),
    ),
)


def line_period(end: str) -> Context:
    rule, term, word = {
        "StartDate": ("PEPPOL-EN16931-R110", "BT-134", "start"),
        "EndDate": ("PEPPOL-EN16931-R111", "BT-135", "end"),
    }[end]

    def nodes(doc: Doc) -> list[Element]:
        if not doc.has("cac:InvoicePeriod/cbc:" + end):
            return []
        return doc.all(f"{doc.line}/cac:InvoicePeriod/cbc:{end}")

    def within(e: Element, doc: Doc) -> bool:
        own = date_of([e], f"line period {word}", text_only=True)
        if own is None:
            return False
        header = date_of(doc.all("cac:InvoicePeriod/cbc:" + end), f"invoice period {word}")
        if header is None:
            return False
        return own >= header if end == "StartDate" else own <= header

    return Context(
        f"a line period {word} date",
        nodes,
        (
            Assert(
                rule,
                "fatal",
                f"The line period {word} date ({term}) shall lie within the invoice period.",
                within,
            ),
        ),
    )


def _price_allowances(doc: Doc) -> list[Element]:
    return [a for a in anywhere(doc, Cac.AllowanceCharge) if parent_is(a, Cac.Price)]


def _net_price(e: Element, doc: Doc) -> bool:
    if not kids(doc, e, BASE_AMOUNT):
        return True
    parent = e.getparent()
    price = decimal_of([] if parent is None else kids(doc, parent, Cbc.PriceAmount))
    if price is None:
        return False
    gross, discount = decimal_of(kids(doc, e, BASE_AMOUNT)), decimal_of(kids(doc, e, AMOUNT))
    if gross is None or discount is None:
        return False
    return price == EXACT.subtract(gross, discount)


PRICE_ALLOWANCE: Final = Context(
    "a price discount",
    _price_allowances,
    (
        Assert(
            "PEPPOL-EN16931-R044",
            "fatal",
            "An item price may only carry a discount (charge indicator 'false').",
            lambda e, d: normalize_space_of(kids(d, e, CHARGE_INDICATOR)) == "false",
        ),
        Assert(
            "PEPPOL-EN16931-R046",
            "fatal",
            "The item net price (BT-146) shall equal the gross price (BT-148) minus the "
            "price discount (BT-147).",
            _net_price,
        ),
    ),
)


def _base_quantities(doc: Doc) -> list[Element]:
    return [
        q
        for q in anywhere(doc, Cbc.BaseQuantity)
        if q.get("unitCode") is not None and parent_is(q, Cac.Price)
    ]


def _same_unit(e: Element, doc: Doc) -> bool:
    price = e.getparent()
    line = None if price is None else price.getparent()
    if line is None:
        return True
    invoiced, credited = (
        kids(doc, line, Cbc.InvoicedQuantity),
        kids(doc, line, Cbc.CreditedQuantity),
    )
    if not (invoiced or credited):
        return True
    quantity = invoiced if doc.kind is DocumentKind.INVOICE else credited
    return any(q.get("unitCode") == e.get("unitCode") for q in quantity)


BASE_QUANTITY: Final = Context(
    "an item price base quantity with a unit",
    _base_quantities,
    (
        Assert(
            "PEPPOL-EN16931-R130",
            "fatal",
            "The unit of the price base quantity (BT-150) shall be that of the invoiced "
            "quantity (BT-130).",
            _same_unit,
        ),
    ),
)
