"""EN 16931 code-list rules (CEN ``CEN_RELEASE``, UBL binding): BR-CL-01..BR-CL-26.

Each official test reads ``contains(' A B C ', concat(' ', normalize-space(v), ' '))``
with no space inside the value: for the lists of ``codes`` (single spaces,
no empty code) that is exactly "the normalised value is one of the codes",
and an empty or absent value is not. BR-CL-08 is a substring test and is
reproduced as one. The contexts follow the Schematron's code-list pattern;
its only overlapping pair (reason codes of allowances and of charges) takes
the allowance reading first, as the first matching rule does.
"""

from __future__ import annotations

from gateway.validation.rules.codes import (
    EAS,
    ICD,
    ISO3166,
    ISO4217,
    MIME_CODES,
    SEPA,
    UNCL1001_CREDIT_NOTE,
    UNCL1001_INVOICE,
    UNCL1153,
    UNCL2005,
    UNCL4451_LISTING,
    UNCL4461,
    UNCL5189,
    UNCL5305,
    UNCL7143,
    UNCL7161,
    UNECE_REC20_21,
    VATEX,
)
from gateway.validation.rules.core_context import ROOT_NOTE, at, indicator, where
from gateway.validation.rules.core_family import Selector, Test, family, group
from gateway.validation.rules.core_nav import Nav, known, memo
from gateway.validation.rules.kernel import clark, in_list, normalize_space, string_value
from gateway.validation.rules.model import Element
from gateway.validation.rules.shape import Context, Pattern

# --- tests ------------------------------------------------------------------


class coded:
    """The element's normalised value is one of ``codes``."""

    __slots__ = ("codes",)

    def __init__(self, codes: frozenset[str]) -> None:
        self.codes = codes

    def __call__(self, x: Nav, n: Element) -> bool:
        return in_list(string_value(n), self.codes)

    def failing(self, x: Nav, nodes: list[Element]) -> list[Element]:
        codes = self.codes
        return [n for n in nodes if not in_list(string_value(n), codes)]


class attribute_coded:
    """The normalised attribute is one of ``codes`` (absent reads as '')."""

    __slots__ = ("codes", "name")

    def __init__(self, name: str, codes: frozenset[str]) -> None:
        self.name, self.codes = name, codes

    def __call__(self, x: Nav, n: Element) -> bool:
        return in_list(n.get(self.name) or "", self.codes)

    def failing(self, x: Nav, nodes: list[Element]) -> list[Element]:
        name, codes = self.name, self.codes
        # in_list, inlined: most values are exact hits
        return [
            n
            for n in nodes
            if (v := n.get(name) or "") not in codes and normalize_space(v) not in codes
        ]


_INVOICE_TYPE = clark("cbc:InvoiceTypeCode")


def _document_type(x: Nav, n: Element) -> bool:
    codes = UNCL1001_INVOICE if n.tag == _INVOICE_TYPE else UNCL1001_CREDIT_NOTE
    return in_list(string_value(n), codes)


def _note_subject(x: Nav, note: Element) -> bool:
    # A note "#XXX#..." whose 3-character subject is in UNCL 4451 (a substring test).
    text = string_value(note)
    if "#" not in text:
        return True
    subject = text.partition("#")[2].partition("#")
    code = subject[0] if subject[1] else ""
    return len(code) != 3 or code in UNCL4451_LISTING


_SEPA_PARTIES = (clark("cac:AccountingSupplierParty"), clark("cac:PayeeParty"))


def _party_scheme(x: Nav, n: Element) -> bool:
    raw = n.get("schemeID") or ""
    if in_list(raw, ICD):
        return True
    scheme = normalize_space(raw)
    return scheme == SEPA and any(True for _ in n.iterancestors(*_SEPA_PARTIES))


def _exemption_code(x: Nav, n: Element) -> bool:
    text = string_value(n)
    return " " not in normalize_space(text) and normalize_space(text.upper()) in VATEX


# --- contexts ---------------------------------------------------------------

_AMOUNTS = (
    "cbc:Amount", "cbc:BaseAmount", "cbc:PriceAmount", "cbc:TaxAmount", "cbc:TaxableAmount",
    "cbc:LineExtensionAmount", "cbc:TaxExclusiveAmount", "cbc:TaxInclusiveAmount",
    "cbc:AllowanceTotalAmount", "cbc:ChargeTotalAmount", "cbc:PrepaidAmount",
    "cbc:PayableRoundingAmount", "cbc:PayableAmount",
)  # fmt: skip


# Patterns the getters below search for (declared for the one-pass matching).
_REFERENCES = known("cac:AdditionalDocumentReference", "cac:DocumentReference")
(_REASON_CODE,) = known("cac:AllowanceCharge/cbc:AllowanceChargeReasonCode")
_QUANTITIES = known("cbc:InvoicedQuantity", "cbc:BaseQuantity", "cbc:CreditedQuantity")


def _object_ids(x: Nav) -> list[Element]:
    # cac:(Additional)DocumentReference[cbc:DocumentTypeCode = '130']/cbc:ID[@schemeID]
    out: list[Element] = []
    for reference in x.find_all(*_REFERENCES):
        if any(string_value(c) == "130" for c in x.kids(reference, "cbc:DocumentTypeCode")):
            out.extend(i for i in x.kids(reference, "cbc:ID") if i.get("schemeID") is not None)
    return out


def _reason_codes(x: Nav, charge: bool) -> list[Element]:
    # cac:AllowanceCharge[cbc:ChargeIndicator = false()]/cbc:AllowanceChargeReasonCode
    # first, then the same with true() (an indicator that fails to cast is an error).
    out: list[Element] = []
    for code in x.find(_REASON_CODE):
        parent = code.getparent()
        assert parent is not None
        if indicator(x, parent, False):
            if not charge:
                out.append(code)
        elif charge and indicator(x, parent, True):
            out.append(code)
    return out


def _quantities(x: Nav) -> list[Element]:
    return [q for q in x.find_all(*_QUANTITIES) if q.get("unitCode") is not None]


OBJECT_ID: Selector = memo("cl.object_id", _object_ids)
ALLOWANCE_REASON: Selector = memo("cl.allowance_reason", lambda x: _reason_codes(x, False))
CHARGE_REASON: Selector = memo("cl.charge_reason", lambda x: _reason_codes(x, True))
QUANTITY: Selector = memo("cl.quantity", _quantities)


def _one(name: str, context: Selector, rule_id: str, message: str, test: Test) -> tuple[Context]:
    return group(name, context, [(rule_id, "fatal", message, test)])


_GROUPS = (
    _one("type", at("cbc:InvoiceTypeCode", "cbc:CreditNoteTypeCode"), "BR-CL-01",
         "The invoice type code (BT-3) shall be a UNTDID 1001 invoice or credit note code.",
         _document_type)
    + _one("amount", at(*_AMOUNTS), "BR-CL-03",
           "An amount's currency (currencyID) shall be an ISO 4217 alpha-3 code.",
           attribute_coded("currencyID", ISO4217))
    + _one("currency", at("cbc:DocumentCurrencyCode"), "BR-CL-04",
           "The invoice currency code (BT-5) shall be an ISO 4217 alpha-3 code.",
           coded(ISO4217))
    + _one("tax_currency", at("cbc:TaxCurrencyCode"), "BR-CL-05",
           "The VAT accounting currency code (BT-6) shall be an ISO 4217 alpha-3 code.",
           coded(ISO4217))
    + _one("tax_point_code", at("cac:InvoicePeriod/cbc:DescriptionCode"), "BR-CL-06",
           "The VAT point date code (BT-8) shall be one of the UNTDID 2005 codes 3, 35, 432.",
           coded(UNCL2005))
    + _one("object_id", OBJECT_ID, "BR-CL-07",
           "The object identifier scheme (BT-18-1) shall be a UNTDID 1153 code.",
           attribute_coded("schemeID", UNCL1153))
    + _one("note", ROOT_NOTE, "BR-CL-08",
           "An invoice note subject code (BT-21) shall be a UNTDID 4451 code.", _note_subject)
    + _one("party_id", where("cac:PartyIdentification/cbc:ID", "schemeID"), "BR-CL-10",
           "A party identifier scheme shall be an ISO 6523 ICD code (SEPA for the seller "
           "or payee).", _party_scheme)
    + _one("legal_id", where("cac:PartyLegalEntity/cbc:CompanyID", "schemeID"), "BR-CL-11",
           "A legal registration identifier scheme shall be an ISO 6523 ICD code.",
           attribute_coded("schemeID", ICD))
    + _one("classification",
           where("cac:CommodityClassification/cbc:ItemClassificationCode", "listID"),
           "BR-CL-13",
           "The item classification scheme (BT-158-1) shall be a UNTDID 7143 code.",
           attribute_coded("listID", UNCL7143))
    + _one("country", at("cac:Country/cbc:IdentificationCode"), "BR-CL-14",
           "A country code shall be an ISO 3166-1 alpha-2 code.", coded(ISO3166))
    + _one("origin", at("cac:OriginCountry/cbc:IdentificationCode"), "BR-CL-15",
           "The item country of origin (BT-159) shall be an ISO 3166-1 alpha-2 code.",
           coded(ISO3166))
    + _one("payment_means", at("cac:PaymentMeans/cbc:PaymentMeansCode"), "BR-CL-16",
           "The payment means type code (BT-81) shall be a UNTDID 4461 code.",
           coded(UNCL4461))
    + _one("tax_category", at("cac:TaxCategory/cbc:ID"), "BR-CL-17",
           "A VAT category code (BT-95, BT-102, BT-118) shall be a UNTDID 5305 code.",
           coded(UNCL5305))
    + _one("item_tax_category", at("cac:ClassifiedTaxCategory/cbc:ID"), "BR-CL-18",
           "The item VAT category code (BT-151) shall be a UNTDID 5305 code.",
           coded(UNCL5305))
    + _one("allowance_reason", ALLOWANCE_REASON, "BR-CL-19",
           "An allowance reason code (BT-98, BT-140) shall be a UNTDID 5189 code.",
           coded(UNCL5189))
    + _one("charge_reason", CHARGE_REASON, "BR-CL-20",
           "A charge reason code (BT-105, BT-145) shall be a UNTDID 7161 code.",
           coded(UNCL7161))
    + _one("standard_id", where("cac:StandardItemIdentification/cbc:ID", "schemeID"),
           "BR-CL-21",
           "The item standard identifier scheme (BT-157-1) shall be an ISO 6523 ICD code.",
           attribute_coded("schemeID", ICD))
    + _one("exemption", at("cbc:TaxExemptionReasonCode"), "BR-CL-22",
           "The VAT exemption reason code (BT-121) shall be a VATEX code.", _exemption_code)
    + _one("unit", QUANTITY, "BR-CL-23",
           "A unit of measure (BT-130, BT-150) shall be a UN/ECE Recommendation 20 or 21 "
           "code.", attribute_coded("unitCode", UNECE_REC20_21))
    + _one("mime", where("cbc:EmbeddedDocumentBinaryObject", "mimeCode"), "BR-CL-24",
           "An attached document's MIME code (BT-125-1) shall be one of the allowed types.",
           lambda x, n: n.get("mimeCode") in MIME_CODES)
    + _one("endpoint", where("cbc:EndpointID", "schemeID"), "BR-CL-25",
           "An electronic address scheme (BT-34-1, BT-49-1) shall be a CEF EAS code.",
           attribute_coded("schemeID", EAS))
    + _one("delivery_location", where("cac:DeliveryLocation/cbc:ID", "schemeID"), "BR-CL-26",
           "The delivery location identifier scheme (BT-71-1) shall be an ISO 6523 ICD code.",
           attribute_coded("schemeID", ICD))
)  # fmt: skip

RULES: tuple[Pattern, ...] = family("codelists", _GROUPS)
