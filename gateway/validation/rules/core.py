"""EN 16931 core rules (CEN ``CEN_RELEASE``, UBL binding): BR-01..BR-65, BR-CO, BR-DEC.

This module holds the document, party and payment rules and assembles the
family; allowances, lines and the VAT breakdown are in ``core_lines``, the
calculations (BR-CO-10..17) and decimal limits (BR-DEC) in ``core_calc``.
Where each rule applies (the first matching Schematron rule wins) is in
``core_context``, the XPath semantics in ``kernel`` and ``kernel_numbers``.
"""

from __future__ import annotations

from gateway.validation.rules.codes import VAT_PREFIX_LISTING
from gateway.validation.rules.core_calc import GROUPS as CALCULATIONS
from gateway.validation.rules.core_context import (
    CREDIT_TRANSFER_ACCOUNT,
    ROOT,
    TAX_AMOUNTS,
    VAT_PARTY_SCHEME,
    at,
    vat_scheme,
    vat_scheme_single,
)
from gateway.validation.rules.core_family import attribute, exists, family, filled, group
from gateway.validation.rules.core_lines import GROUPS as LINES
from gateway.validation.rules.core_nav import Nav
from gateway.validation.rules.kernel import (
    either,
    normalize_space,
    normalize_space_of,
    optional_string,
    string_value,
)
from gateway.validation.rules.model import Element
from gateway.validation.rules.shape import Pattern

# --- document level ---------------------------------------------------------


def _tax_currency_totalled(x: Nav, root: Element) -> bool:
    # every TaxCurrencyCode has a //cac:TaxTotal/cbc:TaxAmount in that currency
    currencies = {a.get("currencyID") for a in x.find(TAX_AMOUNTS)}
    return all(string_value(code) in currencies for code in x.kids(root, "cbc:TaxCurrencyCode"))


def _tax_point_exclusive(x: Nav, root: Element) -> bool:
    return not (
        x.has(root, "cbc:TaxPointDate") and x.has(root, "cac:InvoicePeriod/cbc:DescriptionCode")
    )


_ROOT = group(
    "root",
    ROOT,
    [
        ("BR-01", "fatal", "An invoice shall have a specification identifier (BT-24).",
         filled("cbc:CustomizationID")),
        ("BR-02", "fatal", "An invoice shall have an invoice number (BT-1).", filled("cbc:ID")),
        ("BR-03", "fatal", "An invoice shall have an issue date (BT-2).",
         filled("cbc:IssueDate")),
        ("BR-04", "fatal", "An invoice shall have an invoice type code (BT-3).",
         filled("cbc:InvoiceTypeCode", "cbc:CreditNoteTypeCode")),
        ("BR-05", "fatal", "An invoice shall have an invoice currency code (BT-5).",
         filled("cbc:DocumentCurrencyCode")),
        ("BR-06", "fatal", "An invoice shall contain the seller name (BT-27).",
         filled("cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")),
        ("BR-07", "fatal", "An invoice shall contain the buyer name (BT-44).",
         filled("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")),
        ("BR-08", "fatal", "An invoice shall contain the seller postal address (BG-5).",
         exists("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress")),
        ("BR-10", "fatal", "An invoice shall contain the buyer postal address (BG-8).",
         exists("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress")),
        ("BR-16", "fatal", "An invoice shall have at least one invoice line (BG-25).",
         exists("cac:InvoiceLine", "cac:CreditNoteLine")),
        ("BR-53", "fatal", "A VAT accounting currency (BT-6) needs the total VAT amount "
         "in that currency (BT-111).", _tax_currency_totalled),
        ("BR-CO-03", "fatal", "VAT point date (BT-7) and VAT point date code (BT-8) "
         "are mutually exclusive.", _tax_point_exclusive),
        ("BR-CO-18", "fatal", "An invoice shall have at least one VAT breakdown (BG-23).",
         exists("cac:TaxTotal/cac:TaxSubtotal")),
    ],
)  # fmt: skip

# --- parties ---------------------------------------------------------------


def _payee_distinct(x: Nav, payee: Element) -> bool:
    names = [string_value(e) for e in x.path(payee, "cac:PartyName/cbc:Name")]
    if not names:
        return False
    parent = payee.getparent()
    assert parent is not None  # a cac:PayeeParty is never the root
    seller = "cac:AccountingSupplierParty/cac:Party/"
    seller_names = {string_value(e) for e in x.path(parent, seller + "cac:PartyName/cbc:Name")}
    seller_ids = {
        string_value(e) for e in x.path(parent, seller + "cac:PartyIdentification/cbc:ID")
    }
    ids = (string_value(e) for e in x.path(payee, "cac:PartyIdentification/cbc:ID"))
    return seller_names.isdisjoint(names) and seller_ids.isdisjoint(ids)


def _seller_identified(x: Nav, seller: Element) -> bool:
    return either(
        lambda: any(
            vat_scheme(x, s) and x.has(s, "cbc:CompanyID")
            for s in x.path(seller, "cac:Party/cac:PartyTaxScheme")
        ),
        lambda: any(
            e.get("schemeID") != "SEPA"
            for e in x.path(seller, "cac:Party/cac:PartyIdentification/cbc:ID")
        ),
        lambda: x.has(seller, "cac:Party/cac:PartyLegalEntity/cbc:CompanyID"),
    )


def _vat_prefix_known(x: Nav, scheme: Element) -> bool:
    # contains(' AD AE ... ', substring(cbc:CompanyID, 1, 2)): a substring test
    text = optional_string(x.kids(scheme, "cbc:CompanyID")) or ""
    return text[:2] in VAT_PREFIX_LISTING


def _representative_vat_id(x: Nav, rep: Element) -> bool:
    return any(
        vat_scheme_single(x, s) and x.has(s, "cbc:CompanyID")
        for s in x.kids(rep, "cac:PartyTaxScheme")
    )


_COUNTRY = "cac:Country/cbc:IdentificationCode"
_PARTIES = (
    group("card_number", at("cac:PaymentMeans/cac:CardAccount/cbc:PrimaryAccountNumberID"), [
        ("BR-51", "warning", "The card account number (BT-87) should show at most the "
         "first 6 and last 4 digits.", lambda x, n: len(normalize_space(string_value(n))) <= 10),
    ])
    + group("buyer_endpoint", at("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID"), [
        ("BR-63", "fatal", "The buyer electronic address (BT-49) shall have a scheme "
         "identifier.", attribute("schemeID")),
    ])
    + group("buyer_address", at("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress"), [
        ("BR-11", "fatal", "The buyer postal address shall have a country code (BT-55).",
         filled(_COUNTRY)),
    ])
    + group("seller", at("cac:AccountingSupplierParty"), [
        ("BR-CO-26", "fatal", "The seller identifier (BT-29), legal registration identifier "
         "(BT-30) or VAT identifier (BT-31) shall be present.", _seller_identified),
    ])
    + group("seller_endpoint", at("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID"), [
        ("BR-62", "fatal", "The seller electronic address (BT-34) shall have a scheme "
         "identifier.", attribute("schemeID")),
    ])
    + group("seller_address", at("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress"), [
        ("BR-09", "fatal", "The seller postal address shall have a country code (BT-40).",
         filled(_COUNTRY)),
    ])
    + group("payee", at("cac:PayeeParty"), [
        ("BR-17", "fatal", "A payee (BG-10) different from the seller shall have a payee "
         "name (BT-59).", _payee_distinct),
    ])
    + group("tax_representative", at("cac:TaxRepresentativeParty"), [
        ("BR-18", "fatal", "The seller tax representative shall have a name (BT-62).",
         filled("cac:PartyName/cbc:Name")),
        ("BR-19", "fatal", "The seller tax representative shall have a postal address "
         "(BG-12).", exists("cac:PostalAddress")),
        ("BR-56", "fatal", "The seller tax representative shall have a VAT identifier "
         "(BT-63).", _representative_vat_id),
    ])
    + group("tax_representative_address",
            at("cac:TaxRepresentativeParty/cac:PostalAddress"), [
        ("BR-20", "fatal", "The tax representative postal address shall have a country "
         "code (BT-69).", filled(_COUNTRY)),
    ])
    + group("vat_party_scheme", VAT_PARTY_SCHEME, [
        ("BR-CO-09", "fatal", "A VAT identifier (BT-31, BT-48, BT-63) shall start with a "
         "country prefix.", _vat_prefix_known),
    ])
    + group("delivery_address", at("cac:Delivery/cac:DeliveryLocation/cac:Address"), [
        ("BR-57", "fatal", "A deliver-to address (BG-15) shall have a country code (BT-80).",
         exists(_COUNTRY)),
    ])
)  # fmt: skip

# --- references, payment ----------------------------------------------------


def _credit_transfer_account(x: Nav, means: Element) -> bool:
    # Every branch reads normalize-space(cbc:PaymentMeansCode): its error always shows.
    code = normalize_space_of(x.kids(means, "cbc:PaymentMeansCode"))
    return code not in ("30", "58") or x.has(means, "cac:PayeeFinancialAccount/cbc:ID")


_REFERENCES = (
    group("document_reference", at("cac:AdditionalDocumentReference"), [
        ("BR-52", "fatal", "An additional supporting document (BG-24) shall have a "
         "reference (BT-122).", filled("cbc:ID")),
    ])
    + group("billing_reference", at("cac:BillingReference"), [
        ("BR-55", "fatal", "A preceding invoice reference (BG-3) shall have the invoice "
         "reference (BT-25).", exists("cac:InvoiceDocumentReference/cbc:ID")),
    ])
    + group("credit_transfer_account", CREDIT_TRANSFER_ACCOUNT, [
        ("BR-50", "fatal", "A credit transfer (BG-17) shall have the payment account "
         "identifier (BT-84).", filled("cbc:ID")),
    ])
    + group("payment_means", at("cac:PaymentMeans"), [
        ("BR-49", "fatal", "A payment instruction (BG-16) shall have a payment means type "
         "code (BT-81).", exists("cbc:PaymentMeansCode")),
        ("BR-61", "fatal", "A credit transfer payment means (BT-81 30 or 58) needs the "
         "payment account identifier (BT-84).", _credit_transfer_account),
    ])
)  # fmt: skip


RULES: tuple[Pattern, ...] = family("core", _ROOT + _PARTIES + _REFERENCES + LINES + CALCULATIONS)
