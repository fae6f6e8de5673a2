"""VAT category rules of EN 16931: BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G,
BR-O, BR-AF, BR-AG (rules 01..10 each) and BR-IC-11/12, BR-O-11..14, BR-B.

Every category has the same ten rules, one table row per category:

* 01  the category is used (lines, allowances, charges) iff the VAT
      breakdown (BG-23) has it;
* 02..04  an invoice using it on a line / document level allowance /
      document level charge carries the party identifiers it needs;
* 05..07  the VAT rate of such a line / allowance / charge category;
* 08..10  the breakdown of the category: taxable amount, tax amount,
      exemption reason.

The variants (``vat_checks``) reproduce the official tests exactly where
they differ between categories. Rules 01..04 and the extra rules read the
whole document; 05..10 are checked on each category element that their
Schematron context matches.

The table generates the records (``shape``): one ``Pattern`` per category
code, skipped when the document does not use the code, with a ``Context``
per place its rules look at (the document, or the code's line, allowance,
charge or breakdown categories).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from gateway.validation.rules.kernel import both, either
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.shape import NONE, Assert, Context, Match, Pattern, root
from gateway.validation.rules.vat_checks import (
    COUNTED,
    COUNTED_VAT,
    COUNTED_VAT_STRICT,
    EXACTLY_ONE,
    EXEMPTION_FORBIDDEN,
    EXEMPTION_REQUIRED,
    NO_RATE,
    NO_VAT_IDS,
    NON_NEGATIVE,
    POSITIVE,
    SELLER,
    SELLER_AND_BUYER,
    SELLER_VAT,
    SELLER_VAT_AND_BUYER_VAT,
    TAX_COMPUTED,
    TAX_ZERO,
    TAXABLE_EXACT,
    TAXABLE_PER_RATE,
    TAXABLE_PER_RATE_LINES,
    ZERO,
    BreakdownTest,
    CodeRule,
    PartyTest,
    Presence,
    RateTest,
    Selector,
    allowances_any,
    allowances_vat,
    charges_any,
    charges_raw_vat,
    charges_vat,
    each_rule,
    lines_any,
    lines_vat,
    root_allowances_vat,
    root_charges_vat,
    root_rule,
)
from gateway.validation.rules.vat_extra import EXTRA_RULES
from gateway.validation.rules.vat_facts import Facts, facts

# (trigger, guard): rule 02..04 fails when ``trigger`` finds a use of the
# category and not (``guard`` finds one and the party test passes).
Use = tuple[Selector, Selector]
DEFAULT_USES: dict[int, Use] = {
    2: (lines_vat, lines_vat),
    3: (allowances_vat, allowances_vat),
    4: (charges_vat, charges_vat),
}


@dataclass(frozen=True, slots=True)
class Category:
    prefix: str  # rule ids: BR-<prefix>-nn
    code: str  # VAT category code (UNCL5305)
    name: str
    presence: Presence
    parties: PartyTest
    rate: RateTest
    taxable: BreakdownTest
    tax: BreakdownTest
    exemption: BreakdownTest
    uses: dict[int, Use] = field(default_factory=dict)  # overrides of DEFAULT_USES


CATEGORIES = (
    # BR-S-01 BR-S-02 BR-S-03 BR-S-04 BR-S-05 BR-S-06 BR-S-07 BR-S-08 BR-S-09 BR-S-10
    Category(
        "S", "S", "Standard rated", COUNTED, SELLER, POSITIVE,
        TAXABLE_PER_RATE, TAX_COMPUTED, EXEMPTION_FORBIDDEN,
        uses={2: (lines_any, lines_vat)},
    ),
    # BR-Z-01 BR-Z-02 BR-Z-03 BR-Z-04 BR-Z-05 BR-Z-06 BR-Z-07 BR-Z-08 BR-Z-09 BR-Z-10
    Category(
        "Z", "Z", "Zero rated", EXACTLY_ONE, SELLER, ZERO,
        TAXABLE_EXACT, TAX_ZERO, EXEMPTION_FORBIDDEN,
    ),
    # BR-E-01 BR-E-02 BR-E-03 BR-E-04 BR-E-05 BR-E-06 BR-E-07 BR-E-08 BR-E-09 BR-E-10
    Category(
        "E", "E", "Exempt from VAT", EXACTLY_ONE, SELLER, ZERO,
        TAXABLE_EXACT, TAX_ZERO, EXEMPTION_REQUIRED,
    ),
    # BR-AE-01 BR-AE-02 BR-AE-03 BR-AE-04 BR-AE-05 BR-AE-06 BR-AE-07 BR-AE-08 BR-AE-09 BR-AE-10
    Category(
        "AE", "AE", "VAT reverse charge", EXACTLY_ONE, SELLER_AND_BUYER, ZERO,
        TAXABLE_EXACT, TAX_ZERO, EXEMPTION_REQUIRED,
    ),
    # BR-IC-01 BR-IC-02 BR-IC-03 BR-IC-04 BR-IC-05 BR-IC-06 BR-IC-07 BR-IC-08 BR-IC-09 BR-IC-10
    Category(
        "IC", "K", "Intra-community supply", EXACTLY_ONE, SELLER_VAT_AND_BUYER_VAT, ZERO,
        TAXABLE_EXACT, TAX_ZERO, EXEMPTION_REQUIRED,
    ),
    # BR-G-01 BR-G-02 BR-G-03 BR-G-04 BR-G-05 BR-G-06 BR-G-07 BR-G-08 BR-G-09 BR-G-10
    Category(
        "G", "G", "Export outside the EU", EXACTLY_ONE, SELLER_VAT, ZERO,
        TAXABLE_EXACT, TAX_ZERO, EXEMPTION_REQUIRED,
        uses={3: (allowances_vat, allowances_any), 4: (charges_vat, charges_any)},
    ),
    # BR-O-01 BR-O-02 BR-O-03 BR-O-04 BR-O-05 BR-O-06 BR-O-07 BR-O-08 BR-O-09 BR-O-10
    Category(
        "O", "O", "Not subject to VAT", EXACTLY_ONE, NO_VAT_IDS, NO_RATE,
        TAXABLE_EXACT, TAX_ZERO, EXEMPTION_REQUIRED,
        uses={
            3: (root_allowances_vat, root_allowances_vat),
            4: (root_charges_vat, root_charges_vat),
        },
    ),
    # BR-AF-01 BR-AF-02 BR-AF-03 BR-AF-04 BR-AF-05 BR-AF-06 BR-AF-07 BR-AF-08 BR-AF-09 BR-AF-10
    Category(
        "AF", "L", "IGIC (Canary Islands)", COUNTED_VAT, SELLER, NON_NEGATIVE,
        TAXABLE_PER_RATE_LINES, TAX_COMPUTED, EXEMPTION_FORBIDDEN,
        uses={4: (charges_raw_vat, charges_vat)},
    ),
    # BR-AG-01 BR-AG-02 BR-AG-03 BR-AG-04 BR-AG-05 BR-AG-06 BR-AG-07 BR-AG-08 BR-AG-09 BR-AG-10
    Category(
        "AG", "M", "IPSI (Ceuta and Melilla)", COUNTED_VAT_STRICT, SELLER, NON_NEGATIVE,
        TAXABLE_PER_RATE_LINES, TAX_COMPUTED, EXEMPTION_FORBIDDEN,
    ),
)  # fmt: skip

# rules 05..07: where the category sits, the business terms of its code and rate
PLACES = {
    5: ("line", "An invoice line", "BT-151", "BT-152"),
    6: ("allowance", "A document level allowance", "BT-95", "BT-96"),
    7: ("charge", "A document level charge", "BT-102", "BT-103"),
}
USE_SUBJECTS = {
    2: "An invoice with an invoice line (BT-151)",
    3: "An invoice with a document level allowance (BT-95)",
    4: "An invoice with a document level charge (BT-102)",
}


def _presence(cat: Category) -> CodeRule:
    code, test = cat.code, cat.presence
    return root_rule(
        f"BR-{cat.prefix}-01",
        code,
        f"{cat.name} ('{code}'): {test.wording}",
        lambda doc, f: test.passes(f, code),
    )


def _use(cat: Category, number: int) -> CodeRule:
    trigger, guard = cat.uses.get(number, DEFAULT_USES[number])
    code, parties = cat.code, cat.parties.passes

    def passes(doc: Doc, f: Facts) -> bool:
        return either(
            lambda: both(lambda: guard(f, code), lambda: parties(f.parties)),
            lambda: not trigger(f, code),
        )

    return root_rule(
        f"BR-{cat.prefix}-{number:02d}",
        code,
        f"{USE_SUBJECTS[number]} of category {cat.name} ('{code}') {cat.parties.wording}",
        passes,
    )


def _rate(cat: Category, number: int) -> CodeRule:
    where, subject, code_term, rate_term = PLACES[number]
    test = cat.rate.passes
    return each_rule(
        f"BR-{cat.prefix}-{number:02d}",
        f"{subject} of category {cat.name} ({code_term} = '{cat.code}') shall have "
        f"its VAT rate ({rate_term}) {cat.rate.wording}",
        where,
        cat.code,
        lambda doc, f, c: test(c.kids),
    )


def _breakdown(cat: Category, number: int, test: BreakdownTest, term: str) -> CodeRule:
    code, passes = cat.code, test.passes
    return each_rule(
        f"BR-{cat.prefix}-{number:02d}",
        f"In a VAT breakdown (BG-23) of category {cat.name} (BT-118 = '{code}'), {term} "
        f"{test.wording}",
        "breakdown",
        code,
        lambda doc, f, c: passes(doc, f, c, code),
    )


def category_rules(cat: Category) -> list[CodeRule]:
    return [
        _presence(cat),
        *(_use(cat, n) for n in (2, 3, 4)),
        *(_rate(cat, n) for n in (5, 6, 7)),
        _breakdown(cat, 8, cat.taxable, "the VAT category taxable amount (BT-116)"),
        _breakdown(cat, 9, cat.tax, "the VAT category tax amount (BT-117)"),
        _breakdown(cat, 10, cat.exemption, "the breakdown"),
    ]


def _place(where: str, code: str) -> Match:
    """The context of a code's rules at ``where``: its category elements there."""
    if not where:
        return root
    key = (where, code)

    def match(doc: Doc) -> list[Element]:
        cats = facts(doc).contexts.get(key)
        return [c.el for c in cats] if cats else NONE

    return match


def _used(code: str) -> Callable[[Doc], bool]:
    return lambda doc: not facts(doc).unused(code)


def patterns(rules: Sequence[CodeRule]) -> tuple[Pattern, ...]:
    """One pattern per category code (skipped when the code is not used), a
    context per place its rules are checked."""
    by_code: dict[str, dict[str, list[Assert]]] = {}
    for r in rules:
        by_code.setdefault(r.code, {}).setdefault(r.where, []).append(r.check)
    return tuple(
        Pattern(
            tuple(
                Context(f"{where or 'document'} of category {code}", _place(where, code), tuple(a))
                for where, a in places.items()
            ),
            when=_used(code),
            on_error="report",
            name=f"vat.{code}",
        )
        for code, places in by_code.items()
    )


RULES: Final[tuple[Pattern, ...]] = patterns(
    (*(rule for cat in CATEGORIES for rule in category_rules(cat)), *EXTRA_RULES)
)
