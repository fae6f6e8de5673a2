"""EN 16931 calculation rules (BR-CO-10..17) and decimal limits (BR-DEC).

The official tests compare xs:decimal values exactly, after rounding a sum or
difference with ``round(x * 10 * 10) div 100`` (XPath ``round`` goes half
towards positive infinity: 2.345 -> 2.35, -2.345 -> -2.34). BR-CO-17 allows
the VAT amount to differ by less than one unit from the rounded rate times the
taxable amount. Each rule below follows its official test clause by clause;
an absent amount makes a comparison false, a malformed one is an error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from gateway.validation.rules.core_calc_vat import (
    TEA,
    TIA,
    Amount,
    tax_amount_places,
    total_with_vat,
    vat_amount_matches_rate_exact,
    vat_amount_matches_rate_plain,
    vat_total_is_sum,
)
from gateway.validation.rules.core_context import (
    DOC_ALLOWANCES,
    DOC_CHARGES,
    LINE,
    LINE_ALLOWANCES,
    LINE_CHARGES,
    MONETARY_TOTAL,
    ROOT,
    ROOT_TAX_TOTAL,
    TAX_SUBTOTAL,
    indicator,
)
from gateway.validation.rules.core_family import Test, group, plain_first
from gateway.validation.rules.core_nav import Nav
from gateway.validation.rules.kernel import (
    both,
    clark,
    decimals_ok,
    either,
)
from gateway.validation.rules.kernel_numbers import EXACT, decimal_of, round2, total
from gateway.validation.rules.model import Children, Element
from gateway.validation.rules.shape import Context

_NO_CHILDREN: Final[Children] = {}
_NONE: Final[list[Element]] = []


def _r2(a: Amount) -> Amount:
    return None if a is None else round2(a)


def _same(a: Amount, b: Amount) -> bool:
    """A value comparison where an empty operand makes it false."""
    return a is not None and b is not None and a == b


def places(name: str) -> Test:
    """BR-DEC: at most two digits after the point in ``name``."""
    tag = clark(name)
    return lambda x, n: decimals_ok(x.children.get(n, _NO_CHILDREN).get(tag, _NONE))


# --- BR-CO-10..13, 16: the document totals ----------------------------------


def _line_net_sum(x: Nav) -> Decimal:
    # sum(//(cac:InvoiceLine | cac:CreditNoteLine)/xs:decimal(cbc:LineExtensionAmount))
    cache = x.doc.cache
    found = cache.get("core.calc.line_net_sum")
    if found is None:
        amounts = (decimal_of(x.kids(line, "cbc:LineExtensionAmount")) for line in LINE(x))
        found = cache["core.calc.line_net_sum"] = total(amounts)
    return found


def _line_net_total(x: Nav, t: Element) -> bool:
    # A comparison reads its left operand first; an empty one ends it (false).
    declared = decimal_of(x.kids(t, "cbc:LineExtensionAmount"))
    return declared is not None and declared == round2(_line_net_sum(x))


def _document_sum(name: str, charge: bool) -> Test:
    """BR-CO-11/12: the total equals the rounded sum of the sibling allowances/charges."""

    def chosen(x: Nav, t: Element) -> list[Element]:
        parent = t.getparent()
        siblings = [] if parent is None else x.kids(parent, "cac:AllowanceCharge")
        return [ac for ac in siblings if indicator(x, ac, charge)]

    def matches(x: Nav, t: Element) -> bool:
        declared = decimal_of(x.kids(t, name))
        if declared is None:
            return False
        amounts = (decimal_of(x.kids(ac, "cbc:Amount")) for ac in chosen(x, t))
        return declared == round2(total(amounts))

    def plain(x: Nav, t: Element) -> bool:
        return matches(x, t) or (not x.kids(t, name) and not chosen(x, t))

    def exact(x: Nav, t: Element) -> bool:
        return either(
            lambda: matches(x, t),
            lambda: both(lambda: not x.kids(t, name), lambda: not chosen(x, t)),
        )

    return plain_first(plain, exact)


class _Operands:
    """Amounts of one element, each read (cast) only when first needed."""

    __slots__ = ("element", "values", "x")

    def __init__(self, x: Nav, element: Element) -> None:
        self.x = x
        self.element = element
        self.values: dict[str, Amount] = {}

    def has(self, name: str) -> bool:
        return bool(self.x.kids(self.element, name))

    def __call__(self, name: str) -> Amount:
        if name not in self.values:
            self.values[name] = decimal_of(self.x.kids(self.element, name))
        return self.values[name]

    def chain(self, *steps: tuple[int, str]) -> Amount:
        """A left-to-right sum (+1) / difference (-1) that stops at the first empty operand."""
        value: Amount = None
        for sign, name in steps:
            operand = self(name)
            if operand is None:
                return None
            if value is None:
                value = operand
            else:
                value = EXACT.add(value, operand) if sign > 0 else EXACT.subtract(value, operand)
        return value


_LEA, _CTA, _ATA = "cbc:LineExtensionAmount", "cbc:ChargeTotalAmount", "cbc:AllowanceTotalAmount"
_PAID, _ROUNDING, _PAYABLE = "cbc:PrepaidAmount", "cbc:PayableRoundingAmount", "cbc:PayableAmount"


def _total_without_vat(x: Nav, t: Element) -> bool:
    # Exactly one of the four clauses has true guards; its comparison decides.
    v = _Operands(x, t)
    declared = v(TEA)
    if declared is None:
        return False
    has_charges, has_allowances = v.has(_CTA), v.has(_ATA)
    if has_charges and has_allowances:
        expected = _r2(v.chain((1, _LEA), (1, _CTA), (-1, _ATA)))
    elif has_allowances:
        expected = _r2(v.chain((1, _LEA), (-1, _ATA)))
    elif has_charges:
        expected = _r2(v.chain((1, _LEA), (1, _CTA)))
    else:
        expected = v(_LEA)  # compared as is, not rounded
    return _same(declared, expected)


def _amount_due(x: Nav, t: Element) -> bool:
    v = _Operands(x, t)
    has_paid, has_rounding = v.has(_PAID), v.has(_ROUNDING)
    left = _r2(v.chain((1, _PAYABLE), (-1, _ROUNDING))) if has_rounding else v(_PAYABLE)
    if left is None:
        return False
    right = _r2(v.chain((1, TIA), (-1, _PAID))) if has_paid else v(TIA)
    return _same(left, right)


_DOC = "document level"
GROUPS: tuple[Context, ...] = (
    group("calc.doc_allowance", DOC_ALLOWANCES, [
        ("BR-DEC-01", "fatal", f"The {_DOC} allowance amount (BT-92) has at most 2 decimals.",
         places("cbc:Amount")),
        ("BR-DEC-02", "fatal", f"The {_DOC} allowance base amount (BT-93) has at most 2 "
         "decimals.", places("cbc:BaseAmount")),
    ])
    + group("calc.doc_charge", DOC_CHARGES, [
        ("BR-DEC-05", "fatal", f"The {_DOC} charge amount (BT-99) has at most 2 decimals.",
         places("cbc:Amount")),
        ("BR-DEC-06", "fatal", f"The {_DOC} charge base amount (BT-100) has at most 2 "
         "decimals.", places("cbc:BaseAmount")),
    ])
    + group("calc.monetary_total", MONETARY_TOTAL, [
        ("BR-CO-10", "fatal", "The sum of line net amounts (BT-106) shall equal the sum of "
         "the invoice line net amounts (BT-131).", _line_net_total),
        ("BR-CO-11", "fatal", "The sum of allowances (BT-107) shall equal the sum of the "
         f"{_DOC} allowance amounts (BT-92).", _document_sum("cbc:AllowanceTotalAmount", False)),
        ("BR-CO-12", "fatal", "The sum of charges (BT-108) shall equal the sum of the "
         f"{_DOC} charge amounts (BT-99).", _document_sum("cbc:ChargeTotalAmount", True)),
        ("BR-CO-13", "fatal", "The total without VAT (BT-109) shall equal line net amounts "
         "(BT-106) minus allowances (BT-107) plus charges (BT-108).", _total_without_vat),
        ("BR-CO-16", "fatal", "The amount due (BT-115) shall equal the total with VAT "
         "(BT-112) minus the paid amount (BT-113) plus the rounding amount (BT-114).",
         _amount_due),
        ("BR-DEC-09", "fatal", "The sum of line net amounts (BT-106) has at most 2 decimals.",
         places("cbc:LineExtensionAmount")),
        ("BR-DEC-10", "fatal", "The sum of allowances (BT-107) has at most 2 decimals.",
         places("cbc:AllowanceTotalAmount")),
        ("BR-DEC-11", "fatal", "The sum of charges (BT-108) has at most 2 decimals.",
         places("cbc:ChargeTotalAmount")),
        ("BR-DEC-12", "fatal", "The total without VAT (BT-109) has at most 2 decimals.",
         places("cbc:TaxExclusiveAmount")),
        ("BR-DEC-14", "fatal", "The total with VAT (BT-112) has at most 2 decimals.",
         places("cbc:TaxInclusiveAmount")),
        ("BR-DEC-16", "fatal", "The paid amount (BT-113) has at most 2 decimals.",
         places("cbc:PrepaidAmount")),
        ("BR-DEC-17", "fatal", "The rounding amount (BT-114) has at most 2 decimals.",
         places("cbc:PayableRoundingAmount")),
        ("BR-DEC-18", "fatal", "The amount due for payment (BT-115) has at most 2 decimals.",
         places("cbc:PayableAmount")),
    ])
    + group("calc.root", ROOT, [
        ("BR-CO-15", "fatal", "The total with VAT (BT-112) shall equal the total without VAT "
         "(BT-109) plus the total VAT amount (BT-110).", total_with_vat),
        ("BR-DEC-13", "fatal", "The total VAT amount (BT-110) has at most 2 decimals.",
         tax_amount_places("cbc:DocumentCurrencyCode")),
        ("BR-DEC-15", "fatal", "The total VAT amount in accounting currency (BT-111) has at "
         "most 2 decimals.", tax_amount_places("cbc:TaxCurrencyCode")),
    ])
    + group("calc.tax_total", ROOT_TAX_TOTAL, [
        ("BR-CO-14", "fatal", "The total VAT amount (BT-110) shall equal the sum of the VAT "
         "category tax amounts (BT-117).", vat_total_is_sum),
    ])
    + group("calc.tax_subtotal", TAX_SUBTOTAL, [
        ("BR-CO-17", "fatal", "The VAT category tax amount (BT-117) shall equal the taxable "
         "amount (BT-116) times the rate (BT-119), rounded.",
         plain_first(vat_amount_matches_rate_plain, vat_amount_matches_rate_exact)),
        ("BR-DEC-19", "fatal", "The VAT category taxable amount (BT-116) has at most 2 "
         "decimals.", places("cbc:TaxableAmount")),
        ("BR-DEC-20", "fatal", "The VAT category tax amount (BT-117) has at most 2 decimals.",
         places("cbc:TaxAmount")),
    ])
    + group("calc.line", LINE, [
        ("BR-DEC-23", "fatal", "The invoice line net amount (BT-131) has at most 2 decimals.",
         places("cbc:LineExtensionAmount")),
    ])
    + group("calc.line_allowance", LINE_ALLOWANCES, [
        ("BR-DEC-24", "fatal", "The line allowance amount (BT-136) has at most 2 decimals.",
         places("cbc:Amount")),
        ("BR-DEC-25", "fatal", "The line allowance base amount (BT-137) has at most 2 "
         "decimals.", places("cbc:BaseAmount")),
    ])
    + group("calc.line_charge", LINE_CHARGES, [
        ("BR-DEC-27", "fatal", "The line charge amount (BT-141) has at most 2 decimals.",
         places("cbc:Amount")),
        ("BR-DEC-28", "fatal", "The line charge base amount (BT-142) has at most 2 decimals.",
         places("cbc:BaseAmount")),
    ])
)  # fmt: skip
