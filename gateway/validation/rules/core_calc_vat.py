"""EN 16931 VAT calculation rules: BR-CO-14, BR-CO-15, BR-CO-17 (see ``core_calc``)."""

from __future__ import annotations

from decimal import Decimal

from gateway.validation.rules.core_context import TAX_AMOUNTS, vat_scheme
from gateway.validation.rules.core_family import Test
from gateway.validation.rules.core_nav import Nav
from gateway.validation.rules.kernel import DynamicError, both, decimals_ok, either, string_value
from gateway.validation.rules.kernel_numbers import EXACT, decimal_of, round2, total, xround
from gateway.validation.rules.model import Element

Amount = Decimal | None
TEA, TIA = "cbc:TaxExclusiveAmount", "cbc:TaxInclusiveAmount"

# --- BR-CO-14, 15, 17: VAT ------------------------------------------------


def vat_total_is_sum(x: Nav, tax_total: Element) -> bool:
    subtotals = x.kids(tax_total, "cac:TaxSubtotal")

    def matches() -> bool:
        declared = decimal_of(x.kids(tax_total, "cbc:TaxAmount"))
        if declared is None:
            return False
        return declared == round2(total(decimal_of(x.kids(s, "cbc:TaxAmount")) for s in subtotals))

    return either(matches, lambda: not subtotals)


def _vat_in(x: Nav, tax_total: Element, currency: str) -> Amount:
    """``xs:decimal(cbc:TaxAmount[@currencyID = $currency])`` of one cac:TaxTotal."""
    amounts = [a for a in x.kids(tax_total, "cbc:TaxAmount") if a.get("currencyID") == currency]
    return decimal_of(amounts)


def _one_item(values: list[Decimal]) -> Amount:
    """An arithmetic operand: empty, one value, or a type error."""
    if len(values) > 1:
        raise DynamicError("arithmetic on a sequence of more than one item")
    return values[0] if values else None


def _vat_amounts(x: Nav, tax_totals: list[Element], currency: str) -> list[Decimal]:
    return [d for t in tax_totals if (d := _vat_in(x, t, currency)) is not None]


def _adds_up(
    x: Nav,
    totals: list[Element],
    tax_totals: list[Element],
    currency: str,
    vat_amounts: list[Decimal] | None = None,
) -> bool:
    # Saxon reads the single-valued (right) side first; when it is empty the
    # comparison is false and the amounts on the left are never cast.
    without = _one_item([d for t in totals if (d := decimal_of(x.kids(t, TEA))) is not None])
    if without is None:
        return False
    found = _vat_amounts(x, tax_totals, currency) if vat_amounts is None else vat_amounts
    vat = _one_item(found)
    if vat is None:
        return False
    expected = round2(EXACT.add(without, vat))
    return any(decimal_of(x.kids(t, TIA)) == expected for t in totals)


def _total_with_vat_in(
    x: Nav, totals: list[Element], tax_totals: list[Element], currency: str
) -> bool:
    try:  # plainly first (see plain_first)
        found = _vat_amounts(x, tax_totals, currency)
        return len(found) == 1 and _adds_up(x, totals, tax_totals, currency, found)
    except DynamicError:
        return both(
            lambda: len(_vat_amounts(x, tax_totals, currency)) == 1,
            lambda: _adds_up(x, totals, tax_totals, currency),
        )


def total_with_vat(x: Nav, root: Element) -> bool:
    # every $C in cbc:DocumentCurrencyCode satisfies
    #   count(cac:TaxTotal/xs:decimal(cbc:TaxAmount[@currencyID = $C])) eq 1
    #   and cac:LegalMonetaryTotal/xs:decimal(BT-112) = round(BT-109 + that amount)
    totals = x.kids(root, "cac:LegalMonetaryTotal")
    tax_totals = x.kids(root, "cac:TaxTotal")
    return all(
        _total_with_vat_in(x, totals, tax_totals, string_value(code))
        for code in x.kids(root, "cbc:DocumentCurrencyCode")
    )


def vat_amount_matches_rate_plain(x: Nav, subtotal: Element) -> bool:
    rates = [
        rate
        for c in x.kids(subtotal, "cac:TaxCategory")
        if vat_scheme(x, c) and (rate := decimal_of(x.kids(c, "cbc:Percent"))) is not None
    ]
    vat = decimal_of(x.kids(subtotal, "cbc:TaxAmount"))
    taxable = decimal_of(x.kids(subtotal, "cbc:TaxableAmount"))
    rate = _one_item(rates)
    zero_vat = vat is not None and xround(vat) == 0
    if rate is None or xround(rate) == 0:
        return zero_vat
    if vat is None or taxable is None:
        return False
    expected = round2(EXACT.multiply(EXACT.abs(taxable), EXACT.scaleb(rate, -2)))
    size = EXACT.abs(vat)
    return EXACT.subtract(size, 1) < expected < EXACT.add(size, 1)


def vat_amount_matches_rate_exact(x: Nav, subtotal: Element) -> bool:
    # (round(P) = 0 and round(TA) = 0)
    # or (round(P) != 0 and abs(TA) - 1 < X and abs(TA) + 1 > X)
    # or (not(exists(P)) and round(TA) = 0),  X = round(abs(TBA) * P div 100 * 100) div 100
    # Only reached after an error (see plain_first): operands are simply re-read.
    def rates() -> list[Decimal]:
        return [
            rate
            for c in x.kids(subtotal, "cac:TaxCategory")
            if vat_scheme(x, c) and (rate := decimal_of(x.kids(c, "cbc:Percent"))) is not None
        ]

    def rounded_rate() -> Amount:
        rate = _one_item(rates())
        return None if rate is None else xround(rate)

    def vat() -> Amount:
        return decimal_of(x.kids(subtotal, "cbc:TaxAmount"))

    def vat_rounds_to_zero() -> bool:
        amount = vat()
        return amount is not None and xround(amount) == 0

    def expected() -> Amount:
        taxable = decimal_of(x.kids(subtotal, "cbc:TaxableAmount"))
        rate = None if taxable is None else _one_item(rates())
        if taxable is None or rate is None:
            return None
        return round2(EXACT.multiply(EXACT.abs(taxable), EXACT.scaleb(rate, -2)))

    def near(sign: int) -> bool:
        amount = vat()
        if amount is None:
            return False
        bound = EXACT.add(EXACT.abs(amount), sign)
        target = expected()
        return target is not None and (bound < target if sign < 0 else bound > target)

    return either(
        lambda: both(lambda: rounded_rate() == 0, vat_rounds_to_zero),
        lambda: both(
            lambda: (r := rounded_rate()) is not None and r != 0,
            lambda: both(lambda: near(-1), lambda: near(1)),
        ),
        lambda: both(lambda: not rates(), vat_rounds_to_zero),
    )


def tax_amount_places(currency_child: str) -> Test:
    """BR-DEC-13/15 as written: the currency is compared with a CHILD of the amount."""

    def test(x: Nav, root: Element) -> bool:
        hits = [
            amount
            for amount in x.find(TAX_AMOUNTS)
            if len(amount)
            and any(
                string_value(c) == amount.get("currencyID") for c in x.kids(amount, currency_child)
            )
        ]
        return not hits or decimals_ok(hits)

    return test
