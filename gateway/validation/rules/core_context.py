"""Where the EN 16931 rules apply: the context nodes of each Schematron rule.

A Schematron pattern checks each node with the FIRST of its rules whose
context matches. In the model pattern that decides, for example, that an
invoice line's period is checked by the line-period rule only, and that an
allowance/charge whose indicator holds both values counts as an allowance. The
getters below encode those choices; each is computed once per document.

Relative patterns (``cac:InvoicePeriod``) match at any depth, as in XSLT;
patterns starting with ``/`` are anchored at the root. An error while matching
a pattern (an indicator that is not a boolean, a tax scheme with two
identifiers) stops the official run, so the getters raise it too.
"""

from __future__ import annotations

from typing import Final

from gateway.validation.rules.core_family import Selector
from gateway.validation.rules.core_nav import Nav, known, memo, needing
from gateway.validation.rules.kernel import (
    DynamicError,
    boolean_items_equal,
    clark,
    normalize_space,
    optional_string,
    string_value,
)
from gateway.validation.rules.model import Children, Element

LINES: Final = ("cac:InvoiceLine", "cac:CreditNoteLine")
_TAX_SCHEME: Final = clark("cac:TaxScheme")
_ID: Final = clark("cbc:ID")
_NO_CHILDREN: Final[Children] = {}
_EMPTY: Final[list[Element]] = []


def _under_lines(tail: str) -> tuple[str, ...]:
    return tuple(f"{line}/{tail}" for line in LINES)


# Patterns the getters below search for (declared for the one-pass matching).
_LINE_ALLOWANCE_CHARGES: Final = known(*_under_lines("cac:AllowanceCharge"))
_LINE_PERIODS: Final = known(*_under_lines("cac:InvoicePeriod"))
(_PERIOD,) = known("cac:InvoicePeriod")
(_ACCOUNT,) = known("cac:PaymentMeans/cac:PayeeFinancialAccount")
(_PARTY_TAX_SCHEME,) = known("cac:PartyTaxScheme")
(TAX_AMOUNTS,) = known("cac:TaxTotal/cbc:TaxAmount")  # //cac:TaxTotal/cbc:TaxAmount


def indicator(x: Nav, element: Element, value: bool) -> bool:
    """``cbc:ChargeIndicator = true()/false()``; an uncastable indicator is an error."""
    result = boolean_items_equal(x.kids(element, "cbc:ChargeIndicator"), value)
    if result is None:
        raise DynamicError("cbc:ChargeIndicator is not an xs:boolean")
    return result


def split_by_indicator(x: Nav, nodes: list[Element]) -> tuple[list[Element], list[Element]]:
    """Allowances (indicator false, tried first) and charges (indicator true)."""
    allowances: list[Element] = []
    charges: list[Element] = []
    for node in nodes:
        if indicator(x, node, False):
            allowances.append(node)
        elif indicator(x, node, True):
            charges.append(node)
    return allowances, charges


def vat_scheme(x: Nav, element: Element) -> bool:
    """``[cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT']``.

    Asked of the same categories by many rules: answered once per element
    (an error too, raised again each time).
    """
    known = x.vat_schemes.get(element)
    if known is None:
        try:
            known = x.vat_schemes[element] = _vat_scheme(x, element)
        except DynamicError as exc:
            known = x.vat_schemes[element] = exc
    if isinstance(known, bool):
        return known
    raise known


def _vat_scheme(x: Nav, element: Element) -> bool:
    children = x.children
    for scheme in children.get(element, _NO_CHILDREN).get(_TAX_SCHEME, _EMPTY):
        text = optional_string(children.get(scheme, _NO_CHILDREN).get(_ID, _EMPTY))
        if normalize_space((text or "").upper()) == "VAT":
            return True
    return False


def vat_scheme_single(x: Nav, element: Element) -> bool:
    """``[cac:TaxScheme/(normalize-space(upper-case(cbc:ID)) = 'VAT')]``.

    The predicate is a sequence of booleans, one per tax scheme: more than one
    has no effective boolean value (an error).
    """
    children = x.children
    schemes = children.get(element, _NO_CHILDREN).get(_TAX_SCHEME, _EMPTY)
    if not schemes:
        return False
    if len(schemes) > 1:
        raise DynamicError("effective boolean value of more than one boolean")
    text = optional_string(children.get(schemes[0], _NO_CHILDREN).get(_ID, _EMPTY))
    return normalize_space((text or "").upper()) == "VAT"


def _doc_allowances_charges(x: Nav) -> tuple[list[Element], list[Element]]:
    cache = x.doc.cache
    found = cache.get("core.ctx.doc_ac")
    if found is None:
        nodes = x.kids(x.root, "cac:AllowanceCharge")
        found = cache["core.ctx.doc_ac"] = split_by_indicator(x, nodes)
    return found


def _line_allowances_charges(x: Nav) -> tuple[list[Element], list[Element]]:
    cache = x.doc.cache
    found = cache.get("core.ctx.line_ac")
    if found is None:
        nodes = x.find_all(*_LINE_ALLOWANCE_CHARGES)
        found = cache["core.ctx.line_ac"] = split_by_indicator(x, nodes)
    return found


def _line_periods(x: Nav) -> list[Element]:
    return x.find_all(*_LINE_PERIODS)


_LINE_TAGS: Final = frozenset(clark(line) for line in LINES)


def _other_periods(x: Nav) -> list[Element]:
    periods = x.find(_PERIOD)
    return [p for p in periods if _parent_tag(p) not in _LINE_TAGS]


def _parent_tag(element: Element) -> object:
    parent = element.getparent()
    return None if parent is None else parent.tag


def _credit_transfer_accounts(x: Nav) -> list[Element]:
    # cac:PaymentMeans[cbc:PaymentMeansCode = '30' or ... = '58']/cac:PayeeFinancialAccount
    out = []
    for account in x.find(_ACCOUNT):
        means = account.getparent()
        assert means is not None
        codes = x.kids(means, "cbc:PaymentMeansCode")
        if any(string_value(code) in ("30", "58") for code in codes):
            out.append(account)
    return out


def where(pattern: str, attribute: str) -> Selector:
    """``pattern[@attribute]``."""
    known(pattern)
    return needing(
        (pattern,),
        memo(
            f"{pattern}[@{attribute}]",
            lambda x: [e for e in x.find(pattern) if e.get(attribute) is not None],
        ),
    )


def at(*patterns: str) -> Selector:
    """Elements matching any of the relative patterns."""
    known(*patterns)
    if len(patterns) == 1:
        (pattern,) = patterns
        return needing(patterns, lambda x: x.find(pattern))
    return needing(patterns, memo("|".join(patterns), lambda x: x.find_all(*patterns)))


def _root(x: Nav) -> list[Element]:
    return [x.root]


def _doc_allowances(x: Nav) -> list[Element]:
    return _doc_allowances_charges(x)[0]


def _doc_charges(x: Nav) -> list[Element]:
    return _doc_allowances_charges(x)[1]


def _line_allowances(x: Nav) -> list[Element]:
    return _line_allowances_charges(x)[0]


def _line_charges(x: Nav) -> list[Element]:
    return _line_allowances_charges(x)[1]


def _root_tax_totals(x: Nav) -> list[Element]:
    return x.kids(x.root, "cac:TaxTotal")


def _root_notes(x: Nav) -> list[Element]:
    return x.kids(x.root, "cbc:Note")


def _vat_party_schemes(x: Nav) -> list[Element]:
    return [e for e in x.find(_PARTY_TAX_SCHEME) if vat_scheme(x, e)]


ROOT: Final[Selector] = _root
DOC_ALLOWANCES: Final[Selector] = _doc_allowances
DOC_CHARGES: Final[Selector] = _doc_charges
LINE_ALLOWANCES: Final[Selector] = _line_allowances
LINE_CHARGES: Final[Selector] = _line_charges
LINE: Final = at(*LINES)
LINE_PERIOD: Final = memo("line_period", _line_periods)
PERIOD: Final = memo("period", _other_periods)
MONETARY_TOTAL: Final = at("cac:LegalMonetaryTotal")
ROOT_TAX_TOTAL: Final[Selector] = _root_tax_totals
TAX_SUBTOTAL: Final = at("cac:TaxTotal/cac:TaxSubtotal")
VAT_PARTY_SCHEME: Final = memo("vat_party_scheme", _vat_party_schemes)
CREDIT_TRANSFER_ACCOUNT: Final = memo("credit_transfer_account", _credit_transfer_accounts)
ITEM_CLASSIFICATION: Final = at(
    *_under_lines("cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode")
)
ITEM_STANDARD_ID: Final = at(*_under_lines("cac:Item/cac:StandardItemIdentification/cbc:ID"))
ROOT_NOTE: Final[Selector] = _root_notes
