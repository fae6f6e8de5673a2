"""NO-R-*, SE-R-*: Norwegian and Swedish rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    anywhere,
    below,
    cac,
    kids,
    memo,
    normalize_space,
    normalize_space_of,
    parent_is,
    string,
    string_value,
    substring,
)
from gateway.validation.rules.kernel_numbers import number, number_of
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_ids import mod11, se_orgnr
from gateway.validation.rules.peppol_vars import supplier_country
from gateway.validation.rules.shape import Assert, Context, Pattern

COMPANY_ID = Cbc.CompanyID
TAX_SCHEME_ID = (Cac.TaxScheme, Cbc.ID)
_NO_VAT: Final = re.compile(r"[0-9]{9}MVA\Z")


def _supplier_parties(doc: Doc) -> list[Element]:
    return [p for p in anywhere(doc, Cac.Party) if parent_is(p, Cac.AccountingSupplierParty)]


def _customer_parties(doc: Doc) -> list[Element]:
    return [p for p in anywhere(doc, Cac.Party) if parent_is(p, Cac.AccountingCustomerParty)]


def _schemes(doc: Doc, party: Element, name: str) -> list[Element]:
    """``cac:PartyTaxScheme[normalize-space(cac:TaxScheme/cbc:ID) = name]``."""
    return [
        s
        for s in kids(doc, party, Cac.PartyTaxScheme)
        if normalize_space_of(below(doc, s, *TAX_SCHEME_ID)) == name
    ]


# --- Norway --------------------------------------------------------------------------


def _foretaksregisteret(e: Element, doc: Doc) -> bool:
    ids = [i for s in _schemes(doc, e, "TAX") for i in kids(doc, s, COMPANY_ID)]
    return normalize_space(string(ids, schema=False)) == "Foretaksregisteret"


def _norwegian_vat(e: Element, doc: Doc) -> bool:
    vat = _schemes(doc, e, "VAT")
    prefixes = [substring(string(kids(doc, s, COMPANY_ID)), 1, 2) for s in vat]
    if "NO" not in prefixes:
        return True
    rests = [substring(string(kids(doc, s, COMPANY_ID)), 3) for s in vat]
    if len(rests) > 1:
        raise DynamicError("several VAT identifiers for one seller", schema=False)
    if not (rests and _NO_VAT.match(rests[0])):
        return False
    ids = [i for s in vat for i in kids(doc, s, COMPANY_ID)]
    return mod11(substring(string(ids, schema=False), 3, 9))


NORWAY: Final = Pattern(
    (
        Context(
            "a Norwegian seller",
            lambda d: _supplier_parties(d) if supplier_country(d) == "NO" else [],
            (
                Assert(
                    "NO-R-002",
                    "warning",
                    "A Norwegian seller should state 'Foretaksregisteret' as its tax "
                    "registration (BT-32).",
                    _foretaksregisteret,
                ),
                Assert(
                    "NO-R-001",
                    "fatal",
                    "A Norwegian seller's VAT identifier (BT-31) shall be NO, a valid "
                    "organisation number and MVA.",
                    _norwegian_vat,
                ),
            ),
        ),
    ),
    when=lambda d: supplier_country(d) == "NO",
)


# --- Sweden --------------------------------------------------------------------------


def _vat_ids(doc: Doc, party: Element) -> list[Element]:
    """``cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/cbc:CompanyID`` (untrimmed)."""
    return [
        i
        for s in kids(doc, party, Cac.PartyTaxScheme)
        if any(string_value(t) == "VAT" for t in below(doc, s, *TAX_SCHEME_ID))
        for i in kids(doc, s, COMPANY_ID)
    ]


def _in_sweden(doc: Doc, party: Element) -> bool:
    codes = below(doc, party, Cac.PostalAddress, Cac.Country, Cbc.IdentificationCode)
    return any(string_value(c) == "SE" for c in codes)


def _swedish_vat(doc: Doc, party: Element) -> bool:
    if not _in_sweden(doc, party):
        return False
    for s in kids(doc, party, Cac.PartyTaxScheme):
        if any(string_value(t) == "VAT" for t in below(doc, s, *TAX_SCHEME_ID)):
            ids = kids(doc, s, COMPANY_ID)
            if len(ids) > 1:
                return False  # an error in a pattern: no match
            if substring(string_value(ids[0]) if ids else "", 1, 2) == "SE":
                return True
    return False


def _swedish_suppliers(doc: Doc) -> list[Element]:
    """The seller parties with a postal address in Sweden."""
    return memo(
        doc,
        "peppol.seSuppliers",
        lambda d: [p for p in _supplier_parties(d) if _in_sweden(d, p)],
    )


def _sweden(doc: Doc) -> bool:
    """Some seller party has a postal address in Sweden (every SE rule needs one)."""
    return bool(_swedish_suppliers(doc))


def _se_vat_parties(doc: Doc) -> list[Element]:
    return memo(
        doc,
        "peppol.seVatParties",
        lambda d: [p for p in _swedish_suppliers(d) if _swedish_vat(d, p)],
    )


def _se_legal_entities(doc: Doc) -> list[Element]:
    return [
        le
        for p in _swedish_suppliers(doc)
        for le in kids(doc, p, Cac.PartyLegalEntity)
        if kids(doc, le, COMPANY_ID)
    ]


def _f_skatt_ids(doc: Doc) -> list[Element]:
    out = []
    for p in _swedish_suppliers(doc):
        if not below(doc, p, Cac.PartyLegalEntity, COMPANY_ID):
            continue
        for s in kids(doc, p, Cac.PartyTaxScheme):
            try:
                if normalize_space(string(below(doc, s, *TAX_SCHEME_ID)).upper()) == "VAT":
                    continue
            except DynamicError:
                continue
            out.extend(kids(doc, s, COMPANY_ID))
    return out


def _standard_categories(doc: Doc) -> list[Element]:
    if not _se_vat_parties(doc):
        return []
    return [
        c
        for tag in ("TaxCategory", "ClassifiedTaxCategory")
        for c in anywhere(doc, cac(tag))
        if any(string_value(i) == "S" for i in kids(doc, c, Cbc.ID))
    ]


def _se_payments(
    doc: Doc, test: Callable[[Doc, Element], bool], customer: bool = False
) -> list[Element]:
    if not _swedish_suppliers(doc):
        return []
    if customer and not any(_in_sweden(doc, p) for p in _customer_parties(doc)):
        return []
    out = []
    for pm in anywhere(doc, Cac.PaymentMeans):
        try:
            if test(doc, pm):
                out.append(pm)
        except DynamicError:
            continue
    return out


def _giro(branch: str) -> Callable[[Doc], list[Element]]:
    def test(doc: Doc, pm: Element) -> bool:
        code = normalize_space_of(kids(doc, pm, Cbc.PaymentMeansCode))
        account = Cac.PayeeFinancialAccount
        branch_id = below(doc, pm, account, Cac.FinancialInstitutionBranch, Cbc.ID)
        return code == "30" and normalize_space_of(branch_id) == branch

    return lambda doc: [
        i
        for pm in _se_payments(doc, test)
        for i in below(doc, pm, Cac.PayeeFinancialAccount, Cbc.ID)
    ]


def _code_in(*codes: str) -> Callable[[Doc, Element], bool]:
    return lambda doc, pm: any(
        string_value(c) in codes for c in kids(doc, pm, Cbc.PaymentMeansCode)
    )


def _numeric(e: Element, doc: Doc) -> bool:
    return number(normalize_space(string_value(e))) == number(normalize_space(string_value(e)))


SWEDEN: Final = Pattern(
    (
        Context(
            "a Swedish seller with a Swedish VAT identifier",
            _se_vat_parties,
            (
                Assert(
                    "SE-R-001",
                    "fatal",
                    "A Swedish VAT identifier (BT-31) shall be 14 characters.",
                    lambda e, d: len(normalize_space(string(_vat_ids(d, e), schema=False))) == 14,
                ),
                Assert(
                    "SE-R-002",
                    "fatal",
                    "A Swedish VAT identifier (BT-31) shall be numeric after the country code.",
                    lambda e, d: (
                        number(substring(string(_vat_ids(d, e), schema=False), 3, 12))
                        == number(substring(string(_vat_ids(d, e), schema=False), 3, 12))
                    ),
                ),
            ),
        ),
        Context(
            "the legal entity of a seller in Sweden",
            _se_legal_entities,
            (
                Assert(
                    "SE-R-003",
                    "fatal",
                    "A Swedish organisation number (BT-30) shall be numeric.",
                    lambda e, d: (
                        number_of(kids(d, e, COMPANY_ID)) == number_of(kids(d, e, COMPANY_ID))
                    ),
                ),
                Assert(
                    "SE-R-004",
                    "fatal",
                    "A Swedish organisation number (BT-30) shall be ten characters.",
                    lambda e, d: len(normalize_space(string(kids(d, e, COMPANY_ID)))) == 10,
                ),
                Assert(
                    "SE-R-013",
                    "fatal",
                    "A Swedish organisation number (BT-30) shall have a valid Luhn check digit.",
                    lambda e, d: se_orgnr(normalize_space(string(kids(d, e, COMPANY_ID)))),
                ),
            ),
        ),
        Context(
            "a tax registration of a seller in Sweden",
            _f_skatt_ids,
            (
                Assert(
                    "SE-R-005",
                    "fatal",
                    "A Swedish seller's tax registration (BT-32) shall read 'Godkänd för F-skatt'.",
                    lambda e, d: normalize_space(string_value(e).upper()) == "GODKÄND FÖR F-SKATT",
                ),
            ),
        ),
        Context(
            "a standard rated VAT category of a Swedish seller",
            _standard_categories,
            (
                Assert(
                    "SE-R-006",
                    "fatal",
                    "Swedish standard VAT rates (BT-119, BT-152) are 25, 12 and 6 percent.",
                    lambda e, d: number_of(kids(d, e, Cbc.Percent)) in (25.0, 12.0, 6.0),
                ),
            ),
        ),
        Context(
            "a Plusgiro account of a seller in Sweden",
            _giro("SE:PLUSGIRO"),
            (
                Assert(
                    "SE-R-007", "warning", "A Plusgiro account (BT-84) should be numeric.", _numeric
                ),
                Assert(
                    "SE-R-010",
                    "warning",
                    "A Plusgiro account (BT-84) should be 2 to 8 characters.",
                    lambda e, d: 2 <= len(normalize_space(string_value(e))) <= 8,
                ),
            ),
        ),
        Context(
            "a Bankgiro account of a seller in Sweden",
            _giro("SE:BANKGIRO"),
            (
                Assert(
                    "SE-R-008", "warning", "A Bankgiro account (BT-84) should be numeric.", _numeric
                ),
                Assert(
                    "SE-R-009",
                    "warning",
                    "A Bankgiro account (BT-84) should be 7 or 8 characters.",
                    lambda e, d: len(normalize_space(string_value(e))) in (7, 8),
                ),
            ),
        ),
        Context(
            "a giro payment means of a seller in Sweden",
            lambda d: _se_payments(d, _code_in("50", "56")),
            (
                Assert(
                    "SE-R-011",
                    "warning",
                    "Swedish Bankgiro or Plusgiro should use payment means 30 (BT-81) with "
                    "the branch SE:BANKGIRO or SE:PLUSGIRO.",
                    lambda e, d: False,
                ),
            ),
        ),
        Context(
            "a payment means between Swedish parties",
            lambda d: _se_payments(d, _code_in("31"), customer=True),
            (
                Assert(
                    "SE-R-012",
                    "warning",
                    "Domestic Swedish credit transfers should use payment means 30 (BT-81).",
                    lambda e, d: False,
                ),
            ),
        ),
    ),
    overlapping=True,
    when=_sweden,
)
