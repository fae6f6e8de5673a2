"""The building blocks of the VAT category rules, one per shape of test.

The ten VAT categories share their rules' shapes; where the official tests
differ between categories (which rate is allowed, which party identifiers
are required, whether a VAT scheme is asked for) the difference is one of
the named variants below, and ``vat.py`` picks a variant per category.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gateway.validation.rules.kernel import attempt, both, either, ok, string_value
from gateway.validation.rules.kernel_numbers import decimal_child, untyped_above
from gateway.validation.rules.model import CBC, Children, Doc, Element
from gateway.validation.rules.shape import NONE, Assert
from gateway.validation.rules.vat_breakdown import (
    tax_is_close,
    tax_is_zero,
    taxable_is_close,
    taxable_is_exact,
)
from gateway.validation.rules.vat_facts import PERCENT, Cat, Facts, Parties, facts

EXEMPTION_REASON: Final = f"{{{CBC}}}TaxExemptionReason"
EXEMPTION_CODE: Final = f"{{{CBC}}}TaxExemptionReasonCode"
_NONE: Final[list[Element]] = []


@dataclass(frozen=True, slots=True)
class CodeRule:
    """A rule about one VAT category code (it holds when the code is not
    used): its assertion and where it is checked ("" for the whole document,
    else the ``Facts.contexts`` place of the code's category elements)."""

    code: str
    where: str
    check: Assert


def root_rule(
    rule_id: str, code: str, message: str, passes: Callable[[Doc, Facts], bool]
) -> CodeRule:
    """A rule on the whole document (context ``/ubl:Invoice | /cn:CreditNote``)
    about the VAT category ``code``."""

    def test(n: Element, doc: Doc) -> bool:
        return passes(doc, facts(doc))

    return CodeRule(code, "", Assert(rule_id, "fatal", message, test))


def each_rule(
    rule_id: str, message: str, where: str, code: str, passes: Callable[[Doc, Facts, Cat], bool]
) -> CodeRule:
    """A rule on each category element its context matches (``Facts.context``)."""

    key = (where, code)

    def failing(nodes: list[Element], doc: Doc) -> list[Element]:
        # ``nodes`` are the elements of these categories (``vat.places``)
        f = facts(doc)
        cats = f.contexts.get(key)
        return [c.el for c in cats if not passes(doc, f, c)] if cats else NONE

    def test(n: Element, doc: Doc) -> bool:
        f = facts(doc)
        return all(passes(doc, f, c) for c in f.contexts.get(key, ()) if c.el is n)

    return CodeRule(code, where, Assert(rule_id, "fatal", message, test, failing))


# --- where a category is used (BR-x-02 .. BR-x-04) ---------------------------
# exists(...) over the document, for a category code.
Selector = Callable[[Facts, str], bool]


def lines_vat(f: Facts, code: str) -> bool:
    """``//cac:ClassifiedTaxCategory[normalize-space(cbc:ID) = code][VAT]``."""
    return any(c.is_(code) and c.is_vat() for c in f.classified)


def lines_any(f: Facts, code: str) -> bool:
    """The same without the VAT scheme condition."""
    return any(c.is_(code) for c in f.classified)


def _allowances(is_charge: bool, *, vat: bool, root: bool = False, raw: bool = False) -> Selector:
    """``//cac:AllowanceCharge[ChargeIndicator = is_charge]/cac:TaxCategory[...]``.

    ``root``: document level only (``/*/cac:AllowanceCharge``); ``raw``: the
    code compared without normalize-space (``cbc:ID = code``). The indicator
    is read on every allowance/charge in document order, as the XPath does.
    """

    def select(f: Facts, code: str) -> bool:
        for ac in f.allowance_charges:
            if (root and not ac.root_level) or not ok(ac.charge if is_charge else ac.allowance):
                continue
            for c in ac.cats:
                if (c.has_id(code) if raw else c.is_(code)) and (not vat or c.is_vat()):
                    return True
        return False

    return select


allowances_vat = _allowances(False, vat=True)
allowances_any = _allowances(False, vat=False)
root_allowances_vat = _allowances(False, vat=True, root=True)
charges_vat = _allowances(True, vat=True)
charges_any = _allowances(True, vat=False)
root_charges_vat = _allowances(True, vat=True, root=True)
charges_raw_vat = _allowances(True, vat=True, raw=True)


@dataclass(frozen=True, slots=True)
class PartyTest:
    """Which seller/buyer identifiers an invoice using the category needs."""

    wording: str
    passes: Callable[[Parties], bool]


def _seller(p: Parties) -> bool:
    return either(lambda: p.seller_any, lambda: ok(p.tax_rep_vat))


def _seller_vat(p: Parties) -> bool:
    return either(lambda: ok(p.seller_vat), lambda: ok(p.tax_rep_vat))


def _seller_and_buyer(p: Parties) -> bool:
    return both(lambda: _seller(p), lambda: either(lambda: ok(p.buyer_vat), lambda: p.buyer_legal))


def _seller_vat_and_buyer_vat(p: Parties) -> bool:
    return both(lambda: _seller_vat(p), lambda: ok(p.buyer_vat))


def _no_vat_ids(p: Parties) -> bool:
    return both(
        lambda: not ok(p.seller_vat),
        lambda: not ok(p.tax_rep_vat),
        lambda: not ok(p.buyer_vat),
    )


SELLER = PartyTest(
    "shall have the Seller VAT identifier (BT-31), the Seller tax registration identifier "
    "(BT-32) or the Seller tax representative VAT identifier (BT-63)",
    _seller,
)
SELLER_VAT = PartyTest(
    "shall have the Seller VAT identifier (BT-31) or the Seller tax representative "
    "VAT identifier (BT-63)",
    _seller_vat,
)
SELLER_AND_BUYER = PartyTest(
    "shall have the Seller VAT identifier (BT-31), tax registration identifier (BT-32) or "
    "tax representative VAT identifier (BT-63), and the Buyer VAT identifier (BT-48) or "
    "legal registration identifier (BT-47)",
    _seller_and_buyer,
)
SELLER_VAT_AND_BUYER_VAT = PartyTest(
    "shall have the Seller VAT identifier (BT-31) or the Seller tax representative VAT "
    "identifier (BT-63), and the Buyer VAT identifier (BT-48)",
    _seller_vat_and_buyer_vat,
)
NO_VAT_IDS = PartyTest(
    "shall have neither the Seller VAT identifier (BT-31), nor the Seller tax "
    "representative VAT identifier (BT-63), nor the Buyer VAT identifier (BT-48)",
    _no_vat_ids,
)


# --- BR-x-01: the category is used iff the VAT breakdown has it --------------

_USED = "its items, document level allowances or charges"
BOTH_WAYS = (
    f"An invoice shall have a VAT breakdown (BG-23) of the category if and only if {_USED} use it"
)


@dataclass(frozen=True, slots=True)
class Presence:
    wording: str
    passes: Callable[[Facts, str], bool]


def _exactly_one(f: Facts, code: str) -> bool:
    """Used anywhere (any TaxCategory, breakdown included, or line category,
    with the VAT scheme) => exactly one breakdown ``cbc:ID`` of the code."""
    on_tax_category = attempt(
        lambda: any(c.is_vat() and c.has_normalized_id(code) for c in f.taxcats)
    )
    on_line = attempt(lambda: any(c.is_vat() and c.has_normalized_id(code) for c in f.classified))
    return either(
        lambda: both(
            lambda: either(lambda: ok(on_tax_category), lambda: ok(on_line)),
            lambda: _one_in_breakdown(f, code),
        ),
        lambda: both(lambda: not ok(on_tax_category), lambda: not ok(on_line)),
    )


def _one_in_breakdown(f: Facts, code: str) -> bool:
    return sum(c.count_normalized_id(code) for c in f.breakdown if c.is_vat()) == 1


def _count_both_ways(*, vat: bool, found: Callable[[Cat, str], bool]) -> Presence:
    """Allowance/charge or line categories of the code exist iff the VAT
    breakdown has the code. ``vat``: those counts need the VAT scheme (L, M;
    not S). When some exist, a breakdown category satisfying ``found`` must
    exist (the official tests differ here: S normalizes the code, L and M
    compare it as is, M also asks for the VAT scheme)."""

    def passes(f: Facts, code: str) -> bool:
        def count() -> int:
            n = sum(1 for c in f.allowance_cats if c.is_(code) and (not vat or c.is_vat()))
            return n + sum(1 for c in f.classified if c.is_(code) and (not vat or c.is_vat()))

        used = attempt(count)
        return either(
            lambda: both(lambda: ok(used) > 0, lambda: any(found(c, code) for c in f.breakdown)),
            lambda: both(
                lambda: ok(used) == 0,
                lambda: not any(c.is_(code) and (not vat or c.is_vat()) for c in f.breakdown),
            ),
        )

    return Presence(BOTH_WAYS, passes)


EXACTLY_ONE = Presence(
    f"An invoice where {_USED} use the category shall have exactly one VAT breakdown (BG-23) "
    "of that category, and no breakdown of it otherwise",
    _exactly_one,
)
COUNTED = _count_both_ways(vat=False, found=lambda c, code: c.is_(code))
COUNTED_VAT = _count_both_ways(vat=True, found=lambda c, code: c.has_id(code))
COUNTED_VAT_STRICT = _count_both_ways(vat=True, found=lambda c, code: c.has_id(code) and c.is_vat())


# --- BR-x-05 .. 07: the rate of a line, allowance or charge category ---------


@dataclass(frozen=True, slots=True)
class RateTest:
    wording: str
    passes: Callable[[Children], bool]  # on the category's children by tag


def _percents(kids: Children) -> list[Element]:
    return kids.get(PERCENT, _NONE)


def _zero(kids: Children) -> bool:
    """``xs:decimal(cbc:Percent) = 0``: false when absent."""
    value = decimal_child(kids, PERCENT)
    return value is not None and value == 0


POSITIVE = RateTest(
    "greater than zero",
    lambda e: any(untyped_above(string_value(p), 0, inclusive=False) for p in _percents(e)),
)
ZERO = RateTest("of 0", _zero)
NO_RATE = RateTest("absent", lambda e: not _percents(e))
NON_NEGATIVE = RateTest(
    "of 0 or more",
    lambda e: any(untyped_above(string_value(p), 0, inclusive=True) for p in _percents(e)),
)

# --- BR-x-08 .. 10: the VAT breakdown of the category ------------------------


@dataclass(frozen=True, slots=True)
class BreakdownTest:
    wording: str
    passes: Callable[[Doc, Facts, Cat, str], bool]


TAXABLE_EXACT = BreakdownTest(
    "shall equal the sum of its invoice line net amounts (BT-131) plus document level "
    "charges (BT-99) minus allowances (BT-92) of the category",
    taxable_is_exact,
)
TAXABLE_PER_RATE = BreakdownTest(
    "shall equal (within one unit) the sum of the line net amounts (BT-131) plus charges "
    "(BT-99) minus allowances (BT-92) of the category and its VAT rate (BT-119), some of "
    "which shall exist",
    lambda doc, f, cat, code: taxable_is_close(doc, f, cat, code, rate_in_use=True),
)
TAXABLE_PER_RATE_LINES = BreakdownTest(
    "shall equal (within one unit) the sum of the line net amounts (BT-131) plus charges "
    "(BT-99) minus allowances (BT-92) of the category and its VAT rate (BT-119)",
    lambda doc, f, cat, code: taxable_is_close(doc, f, cat, code, rate_in_use=False),
)
TAX_ZERO = BreakdownTest("shall be 0", lambda doc, f, cat, code: tax_is_zero(doc, cat))
TAX_COMPUTED = BreakdownTest(
    "shall equal (within one unit) the taxable amount (BT-116) times the VAT rate (BT-119), "
    "rounded to two decimals",
    lambda doc, f, cat, code: tax_is_close(doc, cat),
)


def _has_exemption(cat: Cat) -> bool:
    return EXEMPTION_REASON in cat.kids or EXEMPTION_CODE in cat.kids


EXEMPTION_FORBIDDEN = BreakdownTest(
    "shall not have a VAT exemption reason (BT-120) nor a reason code (BT-121)",
    lambda doc, f, cat, code: not _has_exemption(cat),
)
EXEMPTION_REQUIRED = BreakdownTest(
    "shall have a VAT exemption reason (BT-120) or a reason code (BT-121)",
    lambda doc, f, cat, code: _has_exemption(cat),
)
