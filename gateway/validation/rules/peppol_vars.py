"""The document-wide values the Peppol rules branch on (the Schematron ``let``s).

Each is computed once per document. A value whose XPath would raise a
dynamic error is ``None``: a context predicate using it then matches nothing
(Saxon treats an error while matching a pattern as no match), and an
assertion using it stops the stage (``need``).
"""

from __future__ import annotations

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    below,
    ebv_strings,
    kids,
    memo,
    normalize_space,
    normalize_space_of,
    string_value,
    substring,
)
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_codes import PROFILES_01, PROFILES_02

_TAX_SCHEME, _ID, _COMPANY_ID = Cac.TaxScheme, Cbc.ID, Cbc.CompanyID
SUPPLIER = "cac:AccountingSupplierParty/cac:Party"
CUSTOMER = "cac:AccountingCustomerParty/cac:Party"
TAX_REP = "cac:TaxRepresentativeParty"
COUNTRY = "/cac:PostalAddress/cac:Country/cbc:IdentificationCode"


def need(value: str | bool | None) -> str | bool:
    """A variable an assertion reads: its error stops the stage."""
    if value is None:
        raise DynamicError("a document variable has no single value", schema=True)
    return value


def _vat_prefixes(doc: Doc, party: str) -> list[str]:
    """``party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 1, 2)``."""
    key = "peppol.vatPrefixes:" + party
    known: list[str] | None = doc.cache.get(key)
    if known is not None:
        return known
    out = []
    for pts in doc.all(party + "/cac:PartyTaxScheme"):
        if any(string_value(i) == "VAT" for i in below(doc, pts, _TAX_SCHEME, _ID)):
            ids = kids(doc, pts, _COMPANY_ID)
            if len(ids) > 1:
                raise DynamicError("two tax registration identifiers in one scheme", schema=True)
            out.append(substring(string_value(ids[0]), 1, 2) if ids else "")
    doc.cache[key] = out
    return out


def _country(doc: Doc, party: str, tax_rep: bool) -> str | None:
    try:
        for where in (party, TAX_REP) if tax_rep else (party,):
            prefixes = _vat_prefixes(doc, where)
            if ebv_strings(prefixes):
                return normalize_space(prefixes[0]).upper()
        codes = doc.all(party + COUNTRY)
        if codes:
            return normalize_space_of(codes).upper()
    except DynamicError:
        return None
    return "XX"


def supplier_country(doc: Doc) -> str | None:
    """$supplierCountry: VAT number prefix, else tax representative's, else address."""
    return memo(doc, "peppol.supplierCountry", _country, SUPPLIER, True)


def customer_country(doc: Doc) -> str | None:
    return memo(doc, "peppol.customerCountry", _country, CUSTOMER, False)


def accounting_supplier_country(doc: Doc) -> str | None:
    """The Greek rules' variant: the supplier's own VAT prefix or address only."""
    return memo(doc, "peppol.accountingSupplierCountry", _country, SUPPLIER, False)


def _address_is(doc: Doc, where: str, country: str) -> bool | None:
    try:
        return normalize_space_of(doc.all(where + COUNTRY)).upper() == country
    except DynamicError:
        return None


def supplier_is(doc: Doc, country: str) -> bool | None:
    """The supplier's postal address country is ``country`` (``$supplierCountryIsDE``)."""
    return memo(doc, f"peppol.supplierIs{country}", _address_is, SUPPLIER, country)


def customer_is(doc: Doc, country: str) -> bool | None:
    return memo(doc, f"peppol.customerIs{country}", _address_is, CUSTOMER, country)


def tax_rep_is(doc: Doc, country: str) -> bool | None:
    return memo(doc, f"peppol.taxRepIs{country}", _address_is, TAX_REP, country)


def both_de(doc: Doc) -> bool | None:
    """``$supplierCountryIsDE and $customerCountryIsDE``.

    An error in the first is dropped when the second is false (Saxon's ``and``).
    """
    first = supplier_is(doc, "DE")
    if first is None:
        return False if customer_is(doc, "DE") is False else None
    return first and customer_is(doc, "DE")


def raw_country(doc: Doc, where: str) -> str | None:
    """``concat(.../cbc:IdentificationCode)`` as the DK and IS rules read it: raw text."""
    codes = doc.all(where + COUNTRY)
    if len(codes) > 1:
        return None
    return string_value(codes[0]) if codes else ""


def raw_supplier(doc: Doc) -> str | None:
    return memo(doc, "peppol.rawSupplierCountry", raw_country, SUPPLIER)


def raw_customer(doc: Doc) -> str | None:
    return memo(doc, "peppol.rawCustomerCountry", raw_country, CUSTOMER)


def both_raw(doc: Doc, country: str) -> bool:
    """``$XSupplierCountry = 'DK' and $XCustomerCountry = 'DK'`` in a pattern."""
    return raw_supplier(doc) == country and raw_customer(doc) == country


def _profile(doc: Doc) -> str | None:
    try:
        value = normalize_space_of(doc.all("cbc:ProfileID"))
    except DynamicError:
        return None
    if value in PROFILES_01:
        return "01"
    if value in PROFILES_02:
        return "02"
    return "Unknown"


def profile(doc: Doc) -> str | None:
    """$profile: '01' or '02' for an approved business process, else 'Unknown'."""
    return memo(doc, "peppol.profile", _profile)


def greek_sender(doc: Doc) -> bool | None:
    country = supplier_country(doc)
    return None if country is None else country in ("GR", "EL")


def greek_both(doc: Doc) -> bool | None:
    sender = greek_sender(doc)
    if not sender:
        return sender
    country = customer_country(doc)
    return None if country is None else country in ("GR", "EL")


def root_children(doc: Doc, name: str) -> list[Element]:
    return doc.all(name)
