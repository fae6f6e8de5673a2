"""Native EN 16931 and Peppol BIS Billing 3.0 rules (release 2026.5).

Families, one module each, so that a Peppol release is a small diff:

* ``ubl_syntax``  UBL-CR (elements EN 16931 does not use), UBL-SR, UBL-DT
* ``core``        BR-01..BR-nn, BR-CO (calculations), BR-DEC (decimals)
* ``codelists``   BR-CL (code lists)
* ``vat``         BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O, BR-AF, BR-AG, BR-B
* ``peppol``      PEPPOL-EN16931-*, PEPPOL-COMMON-*
* ``national``    DE, DK, GR, IS, IT, NL, NO, SE rules of Peppol BIS
"""

from __future__ import annotations

from functools import cache

from gateway.model import DocumentKind
from gateway.validation.report import Finding
from gateway.validation.rules._loader import choose

# Compiled (mypyc) or Python sources: decided before any rule module loads.
BUILD = choose()

from gateway.validation.rules import codelists, core, national, peppol, ubl_syntax, vat  # noqa: E402
from gateway.validation.rules.engine import Forbidden, Rule, RuleSet  # noqa: E402
from gateway.validation.rules.model import Doc, Element  # noqa: E402

FAMILIES = {
    "ubl_syntax": ubl_syntax.RULES,
    "core": core.RULES,
    "codelists": codelists.RULES,
    "vat": vat.RULES,
    "peppol": peppol.RULES,
    "national": national.RULES,
}

# Which rule ids belong to which family: each family's rules are checked
# against the official verdicts on exactly these ids.
FAMILY_IDS = {
    "ubl_syntax": r"^UBL-(CR|SR|DT)-",
    "core": r"^BR-([0-9]|CO-|DEC-)",
    "codelists": r"^BR-CL-",
    "vat": r"^BR-(S|Z|E|AE|IC|G|O|AF|AG|B)-",
    "peppol": r"^PEPPOL-",
    "national": r"^(DE|DK|GR|IS|IT|NL|NO|SE)-",
}

__all__ = [
    "BUILD",
    "FAMILIES",
    "FAMILY_IDS",
    "Doc",
    "Forbidden",
    "Rule",
    "RuleSet",
    "native_findings",
    "rule_set",
]


@cache
def rule_set() -> RuleSet:
    return RuleSet([r for rules in FAMILIES.values() for r in rules])


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
