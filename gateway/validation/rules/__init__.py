"""Native EN 16931 and Peppol BIS Billing 3.0 rules.

The release they reproduce is ``gateway.validation.release.RULES_RELEASE``
(Peppol BIS Billing 3.0) with the CEN EN 16931 rules of ``CEN_RELEASE``.

Families, in the order they run (``registry.FAMILY_IDS`` says which rule ids
each answers for):

* ``ubl_syntax``  UBL-CR (elements EN 16931 does not use), UBL-SR, UBL-DT
* ``core``        BR-01..BR-nn, BR-CO (calculations), BR-DEC (decimals)
* ``codelists``   BR-CL (code lists)
* ``vat``         BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-AF, BR-AG, BR-B
* ``peppol``      PEPPOL-EN16931-*, PEPPOL-COMMON-*
* ``national``    the countries of ``registry.COUNTRIES`` (DE, DK, GR, IS, IT,
                  NL, NO, SE)

Every family is a tuple of records of one shape (``shape``): ``Pattern`` ->
``Context`` (which nodes) -> ``Assert`` (id, flag, message, ``test(node,
doc)``), as the official Schematron lays its rules out. The Peppol and
national patterns are written so; the table-like families generate them
(``core_family`` from the EN 16931 groups, ``vat`` one pattern per category
code, ``ubl_syntax`` from its rows). One engine (``engine.RuleSet``) runs
them all. Every rule reads the document through the XPath kernel
(``kernel``: strings, child paths, ``and``/``or``, the one ``DynamicError``;
``kernel_numbers``: decimals, doubles, dates) and the document model built
once (``model``).

Adding a country's rules:

1. Write ``national_xx.py`` with its Schematron pattern(s) as
   ``shape.Pattern`` records (a ``Context`` per Schematron rule, an
   ``Assert`` per assertion; ``when=`` the country test, so that the pattern
   costs nothing on other documents). ``national_is.py`` is a small example.
2. Import the pattern(s) in ``registry.py`` and add one line to ``COUNTRIES``
   at the place of the pattern in the official Schematron:
   ``Country("XX", (PATTERN,)),``.

The national family's ids, the Peppol stage and the conformance tests
(``FAMILY_IDS``) follow from that line.
"""

from __future__ import annotations

from functools import cache

from gateway.model import DocumentKind
from gateway.validation.report import Finding
from gateway.validation.rules._loader import choose

# Compiled (mypyc) or Python sources: decided before any rule module loads.
BUILD = choose()

from gateway.validation.rules import codelists, core, national, peppol, ubl_syntax, vat  # noqa: E402
from gateway.validation.rules.engine import RuleSet  # noqa: E402
from gateway.validation.rules.model import Doc, Element  # noqa: E402
from gateway.validation.rules.registry import FAMILY_IDS, STAGE_PATTERNS  # noqa: E402
from gateway.validation.rules.shape import Assert, Context, Pattern  # noqa: E402

FAMILIES = {
    "ubl_syntax": ubl_syntax.RULES,
    "core": core.RULES,
    "codelists": codelists.RULES,
    "vat": vat.RULES,
    "peppol": peppol.RULES,
    "national": national.RULES,
}

__all__ = [
    "BUILD",
    "FAMILIES",
    "FAMILY_IDS",
    "Assert",
    "Context",
    "Doc",
    "Pattern",
    "RuleSet",
    "native_findings",
    "rule_set",
]


@cache
def rule_set() -> RuleSet:
    """Every family; the Peppol stage's patterns in the official order."""
    staged = {id(p) for p in STAGE_PATTERNS}
    first = [p for patterns in FAMILIES.values() for p in patterns if id(p) not in staged]
    return RuleSet([*first, *STAGE_PATTERNS])


def native_findings(root: Element, kind: DocumentKind) -> list[Finding]:
    """Every EN 16931 and Peppol BIS finding on one parsed document."""
    doc = Doc(root, kind)
    try:
        return rule_set().evaluate(doc)
    finally:
        # Values kept for the rules may refer back to the document (a cycle):
        # dropping them now frees the whole model at once, without waiting
        # for the garbage collector.
        doc.cache.clear()
