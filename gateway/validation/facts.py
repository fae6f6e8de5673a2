"""The facts routing needs, read from a parsed UBL Invoice or CreditNote.

Reading never fails on a thin or schema-invalid document: a missing value is
"" (or None for a date or an endpoint), and why an endpoint is unusable is
said in ``problems`` so the pipeline can reject with a clear reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lxml import etree

from gateway.model import DocumentKind, InvalidIdentifier, ParticipantId, document_type_id
from gateway.validation.parse import classify

CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NAMESPACES = {"cbc": CBC_NS, "cac": CAC_NS}

SELLER_PARTY = "cac:AccountingSupplierParty/cac:Party"
BUYER_PARTY = "cac:AccountingCustomerParty/cac:Party"

# xs:date allows a time zone suffix ("2026-11-02Z", "2026-11-02+01:00").
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    kind: DocumentKind
    customization_id: str  # cbc:CustomizationID
    profile_id: str  # cbc:ProfileID
    business_id: str  # cbc:ID
    issue_date: date | None
    currency: str  # cbc:DocumentCurrencyCode
    seller: ParticipantId | None  # seller's cbc:EndpointID with its @schemeID
    buyer: ParticipantId | None  # buyer's cbc:EndpointID with its @schemeID
    buyer_country: str  # buyer's PostalAddress/Country/IdentificationCode
    document_type: str  # Peppol document type id value; "" without a CustomizationID
    process: str  # Peppol process id value: the ProfileID
    problems: tuple[str, ...] = ()  # why seller or buyer is None
    seller_country: str = ""  # seller's PostalAddress/Country/IdentificationCode
    buyer_is_business: bool = False  # the buyer has a VAT or legal registration id
    signed: bool = False  # carries an XML signature (UBL extension or cac:Signature)
    buyer_name: str = ""  # registration name, else trading name
    seller_name: str = ""  # registration name, else trading name
    due_date: date | None = None  # cbc:DueDate, else the payment terms' PaymentDueDate
    payable_amount: str = ""  # cac:LegalMonetaryTotal/cbc:PayableAmount (BT-115), as written

    @property
    def routable(self) -> bool:
        return self.seller is not None and self.buyer is not None


def extract_facts(root: etree._Element) -> DocumentFacts:
    """Read the facts; raises ``UnknownDocument`` for a root that is not UBL."""
    kind = classify(root)
    customization = _text(root, "cbc:CustomizationID")
    profile = _text(root, "cbc:ProfileID")
    seller, seller_problem = _endpoint(root, SELLER_PARTY, "seller")
    buyer, buyer_problem = _endpoint(root, BUYER_PARTY, "buyer")
    return DocumentFacts(
        kind=kind,
        customization_id=customization,
        profile_id=profile,
        business_id=_text(root, "cbc:ID"),
        issue_date=_date(_text(root, "cbc:IssueDate")),
        currency=_text(root, "cbc:DocumentCurrencyCode"),
        seller=seller,
        buyer=buyer,
        buyer_country=_text(
            root, f"{BUYER_PARTY}/cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        ),
        document_type=document_type_id(kind, customization) if customization else "",
        process=profile,
        problems=tuple(p for p in (seller_problem, buyer_problem) if p),
        seller_country=_text(
            root, f"{SELLER_PARTY}/cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        ),
        buyer_is_business=any(
            _text(root, f"{BUYER_PARTY}/{where}/cbc:CompanyID")
            for where in ("cac:PartyTaxScheme", "cac:PartyLegalEntity")
        ),
        signed=root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature") is not None,
        buyer_name=_text(root, f"{BUYER_PARTY}/cac:PartyLegalEntity/cbc:RegistrationName")
        or _text(root, f"{BUYER_PARTY}/cac:PartyName/cbc:Name"),
        seller_name=_text(root, f"{SELLER_PARTY}/cac:PartyLegalEntity/cbc:RegistrationName")
        or _text(root, f"{SELLER_PARTY}/cac:PartyName/cbc:Name"),
        due_date=_date(_text(root, "cbc:DueDate"))
        or _date(_text(root, "cac:PaymentMeans/cbc:PaymentDueDate")),
        payable_amount=_text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount"),
    )


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path, default="", namespaces=NAMESPACES) or "").strip()


def _date(text: str) -> date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:  # 2026-02-30
        return None


def _endpoint(root: etree._Element, party: str, role: str) -> tuple[ParticipantId | None, str]:
    where = f"{party}/cbc:EndpointID"
    element = root.find(where, NAMESPACES)
    if element is None:
        return None, f"the {role}'s electronic address ({where}) is missing"
    value = (element.text or "").strip()
    scheme = (element.get("schemeID") or "").strip()
    if not value or not scheme:
        missing = "value" if not value else "schemeID"
        return None, f"the {role}'s electronic address ({where}) has no {missing}"
    try:
        return ParticipantId.parse(f"{scheme}:{value}"), ""
    except InvalidIdentifier as exc:
        return None, f"the {role}'s electronic address ({where}) is unusable: {exc}"
