"""UBL-SR rules with a condition: counts of what meets a test, values that
must agree, terms that must come together.

The official rule contexts match their element wherever it is, and XPath
comparisons hold for any pair of values (``=`` / ``!=`` over sequences), as
written in each function's docstring.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from lxml import etree

from gateway.validation.rules.kernel import string_value
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.shape import Assert, Check, checked
from gateway.validation.rules.ubl_syntax_nav import (
    Answers,
    PerContext,
    Together,
    anywhere,
    below,
    boolean_equals,
    counts,
    keys_anywhere,
    owning,
    parent_key,
    reach,
    type_codes,
    up,
    values,
    without,
)

LINES = ("cac:InvoiceLine", "cac:CreditNoteLine")
_SUPPLIER = "cac:AccountingSupplierParty/cac:Party"
_CUSTOMER = "cac:AccountingCustomerParty/cac:Party"
_PARTY_IDS = "cac:PartyIdentification/cbc:ID"
_REASONS = "cac:AllowanceCharge/cbc:AllowanceChargeReason"
reach(
    *LINES,
    _PARTY_IDS,
    _REASONS,
    "cbc:PaymentID",
    "cbc:PaymentMeansCode",
    "cac:BillingReference",
    "cac:PartyTaxScheme",
    "cac:AdditionalDocumentReference",
    "cac:PayeeParty",
)


def _repeated(doc: Doc, key: str) -> list[Element]:
    """The parents of the nodes at ``key`` that have more than one of them."""
    nodes = doc.index[key]
    if len(nodes) < 2:
        return []
    parents = up(nodes, 1)
    if len(set(parents)) == len(parents):
        return []
    return [p for p, n in Counter(parents).items() if n > 1]


# --- document level, with a condition ----------------------------------------


def _invoiced_objects(doc: Doc) -> tuple[Element, ...]:
    """UBL-SR-04: the ID of references typed 130 (BT-18), at most one."""
    codes = doc.all("cac:AdditionalDocumentReference/cbc:DocumentTypeCode")
    if len(doc.all("cac:AdditionalDocumentReference/cbc:ID")) <= 1 or "130" not in values(codes):
        return ()
    ids = counts(doc, "cac:AdditionalDocumentReference", "cbc:ID")
    count = sum(n for ref, n in ids.items() if "130" in type_codes(ref))
    return (doc.root,) if count > 1 else ()


def _scheme_is_vat(tax_scheme: Element) -> bool:
    """``upper-case(cbc:ID) = 'VAT'`` on one cac:TaxScheme ('' when there is no ID)."""
    found = below(tax_scheme, "cbc:ID")
    if len(found) > 1:
        raise ValueError("upper-case() of more than one cbc:ID in a cac:TaxScheme")
    return bool(found) and string_value(found[0]).upper() == "VAT"


def _tax_ids(party: str, vat: bool) -> Check:
    """UBL-SR-12/13/18: CompanyIDs of the party's VAT (or other) tax schemes, at most one."""
    key = f"{party}/cac:PartyTaxScheme"

    def check(doc: Doc) -> tuple[Element, ...]:
        ids = doc.all(f"{key}/cbc:CompanyID")
        # The condition is evaluated on every tax scheme, and stops the
        # official validation when a cac:TaxScheme has several IDs.
        if len(ids) <= 1 and len(doc.all(f"{key}/cac:TaxScheme/cbc:ID")) <= 1:
            return ()
        found = counts(doc, key, "cbc:CompanyID")
        count = 0
        for scheme in doc.index[key]:
            # any cac:TaxScheme whose ID is (or is not) VAT
            if any(_scheme_is_vat(t) is vat for t in below(scheme, "cac:TaxScheme")):
                count += found[scheme]
        return (doc.root,) if count > 1 else ()

    return check


def _upper_scheme(identifier: Element) -> str:
    return (identifier.get("schemeID") or "").upper()


def _sepa_creditor_ids(doc: Doc) -> tuple[Element, ...]:
    """UBL-SR-29: one bank assigned creditor identifier (BT-90) at most."""
    found = anywhere(doc, _PARTY_IDS)
    count = sum(1 for i in found if _upper_scheme(i) == "SEPA")
    return (doc.root,) if count > 1 else ()


def _distinct(path: str) -> Check:
    """UBL-SR-44/47: one distinct value at most, over the whole document."""

    def check(doc: Doc) -> tuple[Element, ...]:
        found = anywhere(doc, path)
        return (doc.root,) if len(found) > 1 and len(set(values(found))) > 1 else ()

    return check


# --- per context element, with a condition ------------------------------------


def _line_vat(doc: Doc) -> Iterator[Element]:
    """UBL-SR-48: each line has exactly one line VAT information (BG-30)."""
    index, rel = doc.index, "cac:Item/cac:ClassifiedTaxCategory"
    for key in (k for name in LINES for k in keys_anywhere(doc, name)):
        lines = index[key]
        # as many categories as lines, and every line has one: one each
        if len(index.get(f"{key}/{rel}", ())) == len(lines) == len(owning(doc, key, rel)):
            continue
        found = counts(doc, key, rel)
        yield from (line for line in lines if found[line] != 1)


def _preceding_invoice(doc: Doc) -> Iterator[Element]:
    """UBL-SR-07: a billing reference names the preceding invoice (BT-25)."""
    keys = keys_anywhere(doc, "cac:BillingReference")
    return without(doc, keys, "cac:InvoiceDocumentReference/cbc:ID")


def _reasons(doc: Doc) -> Answers:
    """UBL-SR-30/31: one reason text at most per allowance (BT-97) or charge (BT-104).

    An allowance or charge anywhere, by its indicator: the allowance rule's
    context comes first and takes what it matches.
    """
    found: dict[str, list[Element]] = {}
    for key in keys_anywhere(doc, _REASONS):
        for ac in _repeated(doc, key):
            indicators = below(ac, "cbc:ChargeIndicator")
            if boolean_equals(indicators, False):
                found.setdefault("UBL-SR-30", []).append(ac)
            elif boolean_equals(indicators, True):
                found.setdefault("UBL-SR-31", []).append(ac)
    return dict(found)


_REASONS_RULES = Together("reasons", _reasons)


def _complete_tax_scheme(doc: Doc) -> Iterator[Element]:
    """UBL-SR-53: a party tax scheme has both its scheme ID and the CompanyID."""
    for key in keys_anywhere(doc, "cac:PartyTaxScheme"):
        schemes = owning(doc, key, "cac:TaxScheme/cbc:ID")
        ids = owning(doc, key, "cbc:CompanyID")
        yield from (s for s in doc.index[key] if s not in schemes or s not in ids)


def _scheme_for_objects(doc: Doc) -> Iterator[Element]:
    """UBL-SR-43: a scheme identifier only on an invoiced object reference (130, or 50)."""
    credit_note = etree.QName(doc.root).localname == "CreditNote"
    for key in keys_anywhere(doc, "cac:AdditionalDocumentReference"):
        of = PerContext(doc, key)
        for ref in doc.index[key]:
            codes = values(of(ref, "cbc:DocumentTypeCode"))
            if "130" in codes or (credit_note and "50" in codes):
                continue
            if codes or of(ref, "cbc:ID/@schemeID"):
                yield ref


_SELLER_NAME = f"{_SUPPLIER}/cac:PartyLegalEntity/cbc:RegistrationName"


def _differs(names: list[str], others: list[str]) -> bool:
    """XPath ``names != others``: some pair of values differs."""
    return bool(names) and bool(others) and len(set(names) | set(others)) > 1


def _payee_ids(payee: Element, of: PerContext) -> int:
    found = of(payee, "cac:PartyIdentification/cbc:ID")
    return sum(1 for i in found if _upper_scheme(i) != "SEPA")


_PAYEE_TERMS: tuple[tuple[str, Callable[[Element, PerContext], int]], ...] = (
    ("UBL-SR-19", lambda payee, of: len(of(payee, "cac:PartyName/cbc:Name"))),
    ("UBL-SR-20", _payee_ids),
    ("UBL-SR-21", lambda payee, of: len(of(payee, "cac:PartyLegalEntity/cbc:CompanyID"))),
)


def _payees(doc: Doc) -> Answers:
    """UBL-SR-19/20/21: at most one of a payee term, and a payee other than the seller.

    The payee name (BT-59) and the seller name (BT-27) under the payee's
    parent are compared as XPath sequences: no name on either side fails.
    """
    found: dict[str, list[Element]] = {}
    for key in keys_anywhere(doc, "cac:PayeeParty"):
        of, at = PerContext(doc, key), parent_key(key)
        sellers_of = PerContext(doc, at) if at else None
        for payee in doc.index[key]:
            parent = payee.getparent()
            if sellers_of is None:
                seller = doc.all(_SELLER_NAME)
            else:
                seller = sellers_of(parent, _SELLER_NAME) if parent is not None else []
            names = values(of(payee, "cac:PartyName/cbc:Name"))
            differs = _differs(names, values(seller))
            for rid, count in _PAYEE_TERMS:
                if not (differs and count(payee, of) <= 1):
                    found.setdefault(rid, []).append(payee)
    return dict(found)


_PAYEES = Together("payees", _payees)


_AT_MOST_ONE = "A document has at most one "
_PAYEE = ", and the payee is not the seller"

RULES: tuple[Assert, ...] = (
    checked(
        "UBL-SR-04", "fatal", _AT_MOST_ONE + "invoiced object identifier (BT-18)", _invoiced_objects
    ),
    checked(
        "UBL-SR-07",
        "fatal",
        "A billing reference names the preceding invoice (BT-25)",
        _preceding_invoice,
    ),
    checked(
        "UBL-SR-12",
        "fatal",
        _AT_MOST_ONE + "seller VAT identifier (BT-31)",
        _tax_ids(_SUPPLIER, True),
    ),
    checked(
        "UBL-SR-13",
        "fatal",
        _AT_MOST_ONE + "seller tax registration identifier (BT-32)",
        _tax_ids(_SUPPLIER, False),
    ),
    checked(
        "UBL-SR-18",
        "fatal",
        _AT_MOST_ONE + "buyer VAT identifier (BT-48)",
        _tax_ids(_CUSTOMER, True),
    ),
    _PAYEES.rule("UBL-SR-19", "fatal", "The payee has one name (BT-59) at most" + _PAYEE),
    _PAYEES.rule("UBL-SR-20", "fatal", "The payee has one identifier (BT-60) at most" + _PAYEE),
    _PAYEES.rule(
        "UBL-SR-21",
        "fatal",
        "The payee has one legal registration identifier (BT-61) at most" + _PAYEE,
    ),
    checked(
        "UBL-SR-29",
        "fatal",
        _AT_MOST_ONE + "bank assigned creditor identifier (BT-90)",
        _sepa_creditor_ids,
    ),
    _REASONS_RULES.rule("UBL-SR-30", "fatal", "An allowance has one reason text (BT-97) at most"),
    _REASONS_RULES.rule("UBL-SR-31", "fatal", "A charge has one reason text (BT-104) at most"),
    checked(
        "UBL-SR-43",
        "fatal",
        "Only an invoiced object reference (BT-18) has a scheme identifier",
        _scheme_for_objects,
    ),
    checked(
        "UBL-SR-44",
        "fatal",
        _AT_MOST_ONE + "remittance information (BT-83) value",
        _distinct("cbc:PaymentID"),
    ),
    checked(
        "UBL-SR-47",
        "fatal",
        _AT_MOST_ONE + "payment means type code (BT-81) value",
        _distinct("cbc:PaymentMeansCode"),
    ),
    checked(
        "UBL-SR-48",
        "fatal",
        "An invoice line has exactly one line VAT information (BG-30)",
        _line_vat,
    ),
    checked(
        "UBL-SR-53",
        "fatal",
        "A party tax scheme has its scheme and the tax identifier",
        _complete_tax_scheme,
    ),
)
