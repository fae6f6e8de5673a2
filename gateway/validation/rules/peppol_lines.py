"""PEPPOL-EN16931-R100/R101/R120/R121: invoice and credit note lines.

R120 recomputes the line net amount the way the official rule does: line
allowance and charge totals rounded to two decimals (halves up), the price
divided by its base quantity with Saxon's decimal division, and 0.02 of slack.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from gateway.model import DocumentKind
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_numbers import (
    EXACT,
    decimal_of,
    saxon_div,
    saxon_scale,
    xpath_round,
    xs_decimal,
)
from gateway.validation.rules.peppol_pattern import Assert, Context
from gateway.validation.rules.peppol_xpath import (
    Abort,
    Cac,
    Cbc,
    anywhere,
    by_tag,
    children,
    memo,
    nsp_of,
    sv,
)

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


def _parts(line: Element, doc: Doc) -> dict[str, list[Element]]:
    """The line's children by tag, and its price's children (``cac:Price/x``)
    under ``price:x``, shared by the line's assertions."""
    cache: dict[Element, dict[str, list[Element]]] | None = doc.cache.get("peppol.lineParts")
    if cache is None:
        cache = doc.cache["peppol.lineParts"] = {}
    parts = cache.get(line)
    if parts is None:
        parts = cache[line] = by_tag(line)
        for price in parts.get(PRICE, _NONE):
            for tag, found in by_tag(price).items():
                parts.setdefault("price:" + tag, []).extend(found)
    return parts


def _price(line: Element, doc: Doc, tag: str) -> list[Element]:
    """``cac:Price/tag`` of the line."""
    return _parts(line, doc).get("price:" + tag, _NONE)


def _rounded_total(allowances: list[Element], indicator: str) -> Decimal:
    """``round(sum(cac:AllowanceCharge[...]/cbc:Amount) * 100) div 100`` for one indicator."""
    total = _ZERO
    for ac in allowances:
        if nsp_of(children(ac, CHARGE_INDICATOR)) != indicator:
            continue
        for amount in children(ac, AMOUNT):
            value = xs_decimal(sv(amount))
            if value is None:
                raise Abort(f"allowance amount {sv(amount)!r} is not a decimal", schema=True)
            total = EXACT.add(total, value)
    return EXACT.divide(xpath_round(EXACT.multiply(total, _HUNDRED)), _HUNDRED)


def _operand(nodes: list[Element], default: Decimal) -> tuple[Decimal, int]:
    """A decimal operand of the division with the scale Saxon keeps for it."""
    value = decimal_of(nodes)
    if value is None:
        return default, 0
    return value, saxon_scale(sv(nodes[0]))


def _net_amount_ok(line: Element, doc: Doc) -> bool:
    parts = _parts(line, doc)
    line_amount = decimal_of(parts.get(LINE_AMOUNT, _NONE))
    quantity = decimal_of(parts.get(_QUANTITY[doc.kind], _NONE))
    price, price_scale = _operand(_price(line, doc, PRICE_AMOUNT), _ZERO)
    base, base_scale = _ONE, 0
    base_nodes = _price(line, doc, BASE_QUANTITY)
    if base_nodes:
        value, scale = _operand(base_nodes, _ONE)
        if value != 0:
            base, base_scale = value, scale
    allowances = parts.get(ALLOWANCE, _NONE)
    kinds = {nsp_of(children(ac, CHARGE_INDICATOR)) for ac in allowances}
    discounts = _rounded_total(allowances, "false") if "false" in kinds else _ZERO
    charges = _rounded_total(allowances, "true") if "true" in kinds else _ZERO
    unit = saxon_div(price, price_scale, base, base_scale)
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
    return not refs or any(sv(c) == "130" for r in refs for c in children(r, code))


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
