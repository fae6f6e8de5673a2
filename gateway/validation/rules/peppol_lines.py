"""PEPPOL-EN16931-R100/R101/R120/R121: invoice and credit note lines.

R120 recomputes the line net amount the way the official rule does: line
allowance and charge totals rounded to two decimals (halves up), the price
divided by its base quantity with Saxon's decimal division, and 0.02 of slack.
"""

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
    by_tag,
    kids,
    memo,
    normalize_space_of,
    string_value,
)
from gateway.validation.rules.kernel_numbers import (
    EXACT,
    decimal,
    decimal_of,
    saxon_div,
    saxon_scale,
    xround,
)
from gateway.validation.rules.model import Children, Doc, Element
from gateway.validation.rules.shape import Assert, Context

SLACK: Final = Decimal("0.02")
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_HUNDRED: Final = Decimal(100)

AMOUNT = Cbc.Amount
CHARGE_INDICATOR = Cbc.ChargeIndicator
ALLOWANCE = Cac.AllowanceCharge
PRICE = Cac.Price
PRICE_AMOUNT = Cbc.PriceAmount
BASE_QUANTITY = Cbc.BaseQuantity
LINE_AMOUNT = Cbc.LineExtensionAmount
DOCUMENT_REFERENCE = Cac.DocumentReference
_QUANTITY: Final = {
    DocumentKind.INVOICE: Cbc.InvoicedQuantity,
    DocumentKind.CREDIT_NOTE: Cbc.CreditedQuantity,
}
_NONE: Final[list[Element]] = []


def slack(expected: Decimal, value: Decimal, tolerance: Decimal) -> bool:
    """``u:slack``: ``value`` lies within ``expected`` +/- ``tolerance``."""
    return EXACT.add(expected, tolerance) >= value and EXACT.subtract(expected, tolerance) <= value


def allowances_of(doc: Doc) -> list[Element]:
    """Document-level and line-level allowances/charges (not price allowances)."""
    return doc.all("cac:AllowanceCharge") + doc.all(doc.line + "/cac:AllowanceCharge")


def _lines(doc: Doc) -> list[Element]:
    return anywhere(doc, Cac.InvoiceLine) + anywhere(doc, Cac.CreditNoteLine)


def _parts(line: Element, doc: Doc) -> Children:
    """The line's children by tag."""
    return by_tag(doc, line)


def _price(line: Element, doc: Doc, tag: str) -> list[Element]:
    """``cac:Price/tag`` of the line."""
    return below(doc, line, PRICE, tag)


def _rounded_total(
    doc: Doc, allowances: list[Element], indicators: list[str], indicator: str
) -> Decimal:
    """``round(sum(cac:AllowanceCharge[...]/cbc:Amount) * 100) div 100`` for one indicator
    (0 when no allowance or charge has it)."""
    if indicator not in indicators:
        return _ZERO
    total = _ZERO
    for ac, own in zip(allowances, indicators, strict=True):
        if own != indicator:
            continue
        for amount in kids(doc, ac, AMOUNT):
            value = decimal(string_value(amount))
            if value is None:
                raise DynamicError(
                    f"allowance amount {string_value(amount)!r} is not a decimal", schema=True
                )
            total = EXACT.add(total, value)
    return EXACT.divide(xround(EXACT.multiply(total, _HUNDRED)), _HUNDRED)


def _scale(nodes: list[Element]) -> int:
    """The scale Saxon keeps for the decimal read from ``nodes`` (0 for none)."""
    return saxon_scale(string_value(nodes[0])) if nodes else 0


def _net_amount_ok(line: Element, doc: Doc) -> bool:
    parts = by_tag(doc, line)
    line_amount = decimal_of(parts.get(LINE_AMOUNT, _NONE))
    quantity = decimal_of(parts.get(_QUANTITY[doc.kind], _NONE))
    price_nodes = _price(line, doc, PRICE_AMOUNT)
    price = decimal_of(price_nodes)
    if price is None:
        price = _ZERO
    unit = price
    base_nodes = _price(line, doc, BASE_QUANTITY)
    if base_nodes:
        base = decimal_of(base_nodes)
        # A base quantity of 0 reads as 1; dividing by 1 keeps the price as is.
        if base is not None and base != 0 and base != 1:
            unit = saxon_div(price, _scale(price_nodes), base, _scale(base_nodes))
    allowances = parts.get(ALLOWANCE, _NONE)
    if allowances:
        # normalize-space(cbc:ChargeIndicator) of each, read once
        indicators = [normalize_space_of(kids(doc, ac, CHARGE_INDICATOR)) for ac in allowances]
        discounts = _rounded_total(doc, allowances, indicators, "false")
        charges = _rounded_total(doc, allowances, indicators, "true")
    else:
        discounts = charges = _ZERO
    value = EXACT.multiply(_ONE if quantity is None else quantity, unit)
    value = EXACT.subtract(EXACT.add(value, charges), discounts)
    return slack(_ZERO if line_amount is None else line_amount, value, SLACK)


def _base_quantity_positive(line: Element, doc: Doc) -> bool:
    nodes = _price(line, doc, BASE_QUANTITY)
    if not nodes:
        return True
    value = decimal_of(nodes)
    return value is not None and value > 0


def _one_object(line: Element, doc: Doc) -> bool:
    return len(_parts(line, doc).get(DOCUMENT_REFERENCE, _NONE)) <= 1


def _object_type(line: Element, doc: Doc) -> bool:
    refs = _parts(line, doc).get(DOCUMENT_REFERENCE, _NONE)
    code = Cbc.DocumentTypeCode
    return not refs or any(string_value(c) == "130" for r in refs for c in kids(doc, r, code))


LINE_RULES: Final = Context(
    "an invoice or credit note line",
    lambda doc: memo(doc, "peppol.lines", _lines),
    (
        Assert(
            "PEPPOL-EN16931-R120",
            "fatal",
            "The line net amount (BT-131) shall equal quantity (BT-129) times net price (BT-146) "
            "over base quantity (BT-149), plus charges (BT-141) minus allowances (BT-136).",
            _net_amount_ok,
        ),
        Assert(
            "PEPPOL-EN16931-R121",
            "fatal",
            "The item price base quantity (BT-149) shall be above zero.",
            _base_quantity_positive,
        ),
        Assert(
            "PEPPOL-EN16931-R100",
            "fatal",
            "A line may reference at most one invoiced object (BT-128).",
            _one_object,
        ),
        Assert(
            "PEPPOL-EN16931-R101",
            "fatal",
            "A line document reference is only for the invoiced object (BT-128), "
            "with document type code 130.",
            _object_type,
        ),
    ),
)
