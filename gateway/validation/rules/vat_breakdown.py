"""The VAT breakdown arithmetic of the category rules (BR-x-08 and BR-x-09).

BR-x-08: a VAT category taxable amount (BT-116) equals the sum of the
invoice line net amounts (BT-131) of that category, plus the document level
charges (BT-99) and minus the document level allowances (BT-92) of that
category: exactly for the zero-rated, exempt, reverse charge, intra-community,
export and not-subject categories (Z, E, AE, K, G, O), within one currency
unit and per VAT rate (BT-119) for S, L and M.

BR-x-09: the VAT category tax amount (BT-117) is the taxable amount times
the rate, rounded to two decimals (XPath ``round``: halves up), within one
unit (S, L, M); or zero (the other categories).

Everything is exact decimal arithmetic, except where the official test
subtracts 1 from the untyped taxable amount: that arithmetic is in
xs:double, and so is ours.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final

from gateway.validation.rules.kernel import both, child_string, either, ok
from gateway.validation.rules.kernel_numbers import (
    EXACT,
    decimal_child,
    decimal_of,
    double_to_decimal,
    to_double,
    xround,
)
from gateway.validation.rules.model import CBC, Children, Doc
from gateway.validation.rules.vat_facts import Cat, Facts, Line

TOTALS_KEY: Final = "vat.totals"
TAXABLE: Final = f"{{{CBC}}}TaxableAmount"
TAX_AMOUNT: Final = f"{{{CBC}}}TaxAmount"
ONE: Final = Decimal(1)
_NO_CHILDREN: Final[Children] = {}
HUNDRED: Final = Decimal(100)


def _of(cats: list[Cat], code: str, rate: Decimal | None) -> bool:
    """``[.../normalize-space(cbc:ID) = code][.../xs:decimal(cbc:Percent) = rate]``.

    Each predicate looks at all the categories (any one may match); the
    rate is not compared when ``rate`` is None.
    """
    if not any(c.is_(code) for c in cats):
        return False
    return rate is None or any(ok(c.rate) == rate for c in cats)


def category_total(doc: Doc, f: Facts, invoice: bool, code: str, rate: Decimal | None) -> Decimal:
    """Sum of line net amounts + charges - allowances of the category.

    Over the document's own invoice (or credit note) lines and its document
    level allowances and charges, in that order; memoised per document.
    """
    totals: dict[tuple[bool, str, Decimal | None], Decimal] = doc.cache.setdefault(TOTALS_KEY, {})
    key = (invoice, code, rate)
    found = totals.get(key)
    if found is not None:
        return found
    total = Decimal(0)
    for line in f.invoice_lines if invoice else f.credit_note_lines:
        if line.root_level and _of(line.cats, code, rate):
            amount = decimal_of(line.amounts)
            if amount is not None:
                total = EXACT.add(total, amount)
    for is_charge in (True, False):
        for ac in f.allowance_charges:
            if (
                ac.root_level
                and ok(ac.charge if is_charge else ac.allowance)
                and _of(ac.cats, code, rate)
            ):
                amount = decimal_of(ac.amounts)
                if amount is not None:
                    total = (EXACT.add if is_charge else EXACT.subtract)(total, amount)
    totals[key] = total
    return total


def _subtotal(doc: Doc, cat: Cat) -> Children:
    """The children (by tag) of the cac:TaxSubtotal of a breakdown category."""
    parent = cat.el.getparent()
    assert parent is not None  # a breakdown category is never the root
    return doc.children.get(parent, _NO_CHILDREN)


def taxable_is_exact(doc: Doc, f: Facts, cat: Cat, code: str) -> bool:
    """BT-116 = lines + charges - allowances of the category (Z, E, AE, K, G, O)."""
    subtotal = _subtotal(doc, cat)
    return either(
        lambda: bool(f.invoice_lines) and _taxable_equal(doc, f, subtotal, code, True),
        lambda: bool(f.credit_note_lines) and _taxable_equal(doc, f, subtotal, code, False),
    )


# Helpers of the rules above are module functions, not nested ones: a nested
# function that another closure calls makes a reference cycle once compiled
# (mypyc keeps it in the closure's environment), and the cycle would keep the
# document alive until the garbage collector runs.


def _taxable_equal(doc: Doc, f: Facts, subtotal: Children, code: str, invoice: bool) -> bool:
    taxable = decimal_child(subtotal, TAXABLE)
    return taxable is not None and taxable == category_total(doc, f, invoice, code, None)


def _within_one(subtotal: Children, total: Callable[[], Decimal]) -> bool:
    """``xs:decimal(TaxableAmount - 1) < total and xs:decimal(TaxableAmount + 1) > total``.

    The subtraction is xs:double arithmetic on the untyped amount; an absent
    amount makes both comparisons false without computing the total.
    """
    text = child_string(subtotal, TAXABLE)
    if text is None:
        return False
    value = to_double(text)
    return double_to_decimal(value - 1.0) < total() and double_to_decimal(value + 1.0) > total()


def taxable_is_close(doc: Doc, f: Facts, cat: Cat, code: str, *, rate_in_use: bool) -> bool:
    """BT-116 within one unit of the category's lines, charges and allowances
    at the breakdown's rate (S, L, M). For S (``rate_in_use``) some line or
    allowance/charge must also carry that category and rate."""
    rate = ok(cat.rate)
    if rate is None:  # "every $rate in ()" holds
        return True
    subtotal = _subtotal(doc, cat)
    return either(
        lambda: _close(doc, f, subtotal, code, rate, rate_in_use, True),
        lambda: _close(doc, f, subtotal, code, rate, rate_in_use, False),
    )


def _rate_used(f: Facts, lines: list[Line], code: str, rate: Decimal, rate_in_use: bool) -> bool:
    if not rate_in_use:
        return bool(lines)
    return either(
        lambda: any(_of(line.cats, code, rate) for line in lines),
        lambda: any(_of(ac.cats, code, rate) for ac in f.allowance_charges),
    )


def _close(
    doc: Doc,
    f: Facts,
    subtotal: Children,
    code: str,
    rate: Decimal,
    rate_in_use: bool,
    invoice: bool,
) -> bool:
    lines = f.invoice_lines if invoice else f.credit_note_lines
    return both(
        lambda: _rate_used(f, lines, code, rate, rate_in_use),
        lambda: _within_one(subtotal, lambda: category_total(doc, f, invoice, code, rate)),
    )


def tax_is_zero(doc: Doc, cat: Cat) -> bool:
    """BT-117 = 0 (Z, E, AE, K, G, O)."""
    amount = decimal_child(_subtotal(doc, cat), TAX_AMOUNT)
    return amount is not None and amount == 0


def tax_is_close(doc: Doc, cat: Cat) -> bool:
    """|BT-117| within one unit of round(|BT-116| x BT-119 / 100, 2).

    Each operand is read only when the ones before it are present: an empty
    operand ends the arithmetic (and the comparison is false).
    """
    subtotal = _subtotal(doc, cat)
    amount = decimal_child(subtotal, TAX_AMOUNT)
    if amount is None:
        return False
    taxable = decimal_child(subtotal, TAXABLE)
    if taxable is None:
        return False
    rate = ok(cat.rate)
    if rate is None:
        return False
    exact = EXACT.multiply(EXACT.abs(taxable), EXACT.scaleb(rate, -2))
    expected = EXACT.scaleb(xround(EXACT.multiply(exact, HUNDRED)), -2)
    amount = EXACT.abs(amount)
    return EXACT.subtract(amount, ONE) < expected and EXACT.add(amount, ONE) > expected
