"""The print model: what a printed invoice or credit note shows, read from a
parsed UBL 2.1 document.

Pure: an lxml root in, frozen values out. Reading never fails on a thin
document: a missing text is "" and a missing or malformed amount is None.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from gateway.channels.printwords import MAX_DIGITS, country_name, means_name, percent, title_of
from gateway.model import DocumentKind
from gateway.validation.facts import BUYER_PARTY, NAMESPACES, SELLER_PARTY
from gateway.validation.parse import classify

# Longest text kept from one field: a table row must fit one page, and a
# hostile document must not turn a print run into a book.
MAX_TEXT = 600
MAX_CODE = 8


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    address: tuple[str, ...] = ()  # postal lines under the name, without the country
    country: str = ""  # ISO 3166 alpha-2
    vat_id: str = ""
    legal_name: str = ""
    company_id: str = ""
    contact: str = ""
    postal: bool = False  # a street and a locality: a letter can reach it
    endpoint: str = ""  # the electronic address, "scheme:id" (BT-34, BT-49)
    identifiers: tuple[str, ...] = ()  # party identifiers, "scheme:id" (BT-29, BT-46)


@dataclass(frozen=True, slots=True)
class Line:
    number: str
    name: str
    description: str
    item_id: str
    note: str
    quantity: Decimal | None
    unit: str  # UN/ECE Rec. 20 code
    unit_price: Decimal | None
    base_quantity: Decimal | None
    net: Decimal | None
    vat: str  # "S 20%"


@dataclass(frozen=True, slots=True)
class VatRow:
    category: str
    rate: Decimal | None
    taxable: Decimal | None
    tax: Decimal | None
    reason: str


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    charge: bool
    reason: str
    amount: Decimal | None
    vat: str


@dataclass(frozen=True, slots=True)
class Totals:
    line_net: Decimal | None = None
    allowances: Decimal | None = None
    charges: Decimal | None = None
    tax_exclusive: Decimal | None = None
    vat: Decimal | None = None
    tax_inclusive: Decimal | None = None
    prepaid: Decimal | None = None
    rounding: Decimal | None = None
    payable: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    means: str
    iban: str  # or another account id
    bic: str
    account_name: str
    reference: str
    mandate: str  # direct debit mandate reference
    debited: str  # direct debit: the buyer's account
    means_code: str = ""  # UNCL 4461, for wording other than the document's own


@dataclass(frozen=True, slots=True)
class PrintDocument:
    kind: DocumentKind
    title: str  # "Invoice", "Credit note"...
    number: str
    issue_date: str  # ISO dates as written: unambiguous in every country
    due_date: str
    currency: str
    order_reference: str
    buyer_reference: str
    corrects: tuple[str, ...]  # invoices a credit note or corrected invoice refers to
    delivery_date: str
    period: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    allowances_charges: tuple[AllowanceCharge, ...]
    vat: tuple[VatRow, ...]
    totals: Totals
    payments: tuple[Payment, ...]
    payment_terms: str
    notes: tuple[str, ...]
    # The same facts unworded, for pages in other languages than the print's:
    type_code: str = ""  # UNTDID 1001
    period_dates: tuple[str, str] = ("", "")  # start, end
    corrected: tuple[tuple[str, str], ...] = ()  # (number, issue date) of each


@dataclass(frozen=True, slots=True)
class Recipient:
    lines: tuple[str, ...]  # name first, country last when abroad
    has_address: bool  # False: the window shows a name only; the manifest says so


def read_document(root: etree._Element) -> PrintDocument:
    """The print model of a UBL Invoice or CreditNote root (UnknownDocument otherwise)."""
    kind = classify(root)
    credit = kind is DocumentKind.CREDIT_NOTE
    line_tag, qty_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    code = _t(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode")
    # ISO 4217 codes have 3 letters; a longer one is cut so that amounts keep
    # to one line of their cells.
    currency = _t(root, "cbc:DocumentCurrencyCode")[:MAX_CODE]
    seller = _party(root.find(SELLER_PARTY, NAMESPACES))
    start, end = (_t(root, f"cac:InvoicePeriod/cbc:{k}") for k in ("StartDate", "EndDate"))
    return PrintDocument(
        kind=kind,
        title=title_of(code, credit=credit),
        number=_t(root, "cbc:ID"),
        issue_date=_t(root, "cbc:IssueDate"),
        due_date=_t(root, "cbc:DueDate") or _t(root, "cac:PaymentMeans/cbc:PaymentDueDate"),
        currency=currency,
        order_reference=_t(root, "cac:OrderReference/cbc:ID"),
        buyer_reference=_t(root, "cbc:BuyerReference"),
        corrects=tuple(
            f"{number_} of {day}" if day else number_ for number_, day in _billing_refs(root)
        ),
        delivery_date=_t(root, "cac:Delivery/cbc:ActualDeliveryDate"),
        period=" to ".join(filter(None, (start, end))),
        seller=seller,
        buyer=_party(root.find(BUYER_PARTY, NAMESPACES)),
        lines=tuple(_line(el, qty_tag) for el in root.iterfind(line_tag, NAMESPACES)),
        allowances_charges=tuple(
            AllowanceCharge(
                charge=_t(el, "cbc:ChargeIndicator").lower() == "true",
                reason=_t(el, "cbc:AllowanceChargeReason")
                or _t(el, "cbc:AllowanceChargeReasonCode"),
                amount=_amount(_t(el, "cbc:Amount")),
                vat=_vat(el.find("cac:TaxCategory", NAMESPACES)),
            )
            for el in root.iterfind("cac:AllowanceCharge", NAMESPACES)
        ),
        vat=tuple(_vat_rows(root, currency)),
        totals=_totals(root, currency),
        payments=tuple(_payment(el) for el in root.iterfind("cac:PaymentMeans", NAMESPACES)),
        payment_terms=_t(root, "cac:PaymentTerms/cbc:Note"),
        notes=tuple(_note(el.text or "") for el in root.iterfind("cbc:Note", NAMESPACES)),
        type_code=code[:MAX_CODE],
        period_dates=(start, end),
        corrected=tuple(_billing_refs(root)),
    )


def recipient_of(doc: PrintDocument, *, name: str = "", address: tuple[str, ...] = ()) -> Recipient:
    """The lines for the envelope window: ``address`` when given (the directory
    knows best), else the buyer's postal address in the document."""
    who = _clean(name) or doc.buyer.name
    given = tuple(filter(None, (_clean(a) for a in address)))
    if given:
        return Recipient(lines=(who, *given), has_address=True)
    b = doc.buyer
    abroad = b.country and b.country.upper() != doc.seller.country.upper()
    country = (country_name(b.country),) if abroad else ()
    return Recipient(lines=(who, *b.address, *country), has_address=b.postal)


# --- reading -----------------------------------------------------------------


def _clean(text: str) -> str:
    """One line of text: whitespace collapsed, controls dropped, length capped."""
    text = "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\t\n\r")
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _t(el: etree._Element | None, path: str) -> str:
    found = el.find(path, NAMESPACES) if el is not None else None
    return _clean(found.text or "") if found is not None else ""


def _amount(text: str) -> Decimal | None:
    if not text or len(text) > MAX_DIGITS:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _note(text: str) -> str:
    # Peppol notes may start with a subject code such as "#AAI#"; the reader
    # does not need it. Line breaks are kept: notes are often small paragraphs.
    if text.startswith("#") and text.count("#") >= 2:
        text = text.split("#", 2)[2]
    lines = (_clean(part) for part in text.splitlines())
    return "\n".join(filter(None, lines))[: MAX_TEXT * 4]


def _party(party: etree._Element | None) -> Party:
    addr = party.find("cac:PostalAddress", NAMESPACES) if party is not None else None
    streets = [_t(addr, "cbc:StreetName"), _t(addr, "cbc:AdditionalStreetName")]
    if addr is not None:
        streets += [
            _clean(x.text or "") for x in addr.iterfind("cac:AddressLine/cbc:Line", NAMESPACES)
        ]
    country = _t(addr, "cac:Country/cbc:IdentificationCode").upper()
    city, zone = _t(addr, "cbc:CityName"), _t(addr, "cbc:PostalZone")
    region = _t(addr, "cbc:CountrySubentity")
    locality = _locality(country, zone, city, region)
    contact = [_t(party, f"cac:Contact/cbc:{k}") for k in ("Name", "Telephone", "ElectronicMail")]
    ids, endpoint = [], None
    if party is not None:
        ids = list(party.iterfind("cac:PartyIdentification/cbc:ID", NAMESPACES))
        endpoint = party.find("cbc:EndpointID", NAMESPACES)
    name = _t(party, "cac:PartyName/cbc:Name")
    legal = _t(party, "cac:PartyLegalEntity/cbc:RegistrationName")
    return Party(
        name=name or legal,
        address=tuple(filter(None, (*streets, *locality))),
        country=country,
        vat_id=_t(party, "cac:PartyTaxScheme/cbc:CompanyID"),
        legal_name=legal,
        company_id=_t(party, "cac:PartyLegalEntity/cbc:CompanyID"),
        contact=", ".join(filter(None, contact)),
        postal=any(streets) and bool(city or zone),
        endpoint=_scheme_id(endpoint),
        identifiers=tuple(filter(None, (_scheme_id(el) for el in ids))),
    )


def _scheme_id(el: etree._Element | None) -> str:
    """An identifier as "scheme:id" when its scheme is given ("0088:5790000435951")."""
    if el is None:
        return ""
    value, scheme = _clean(el.text or ""), _clean(el.get("schemeID", ""))[: MAX_CODE * 2]
    return f"{scheme}:{value}" if scheme and value else value


def _locality(country: str, zone: str, city: str, region: str) -> tuple[str, ...]:
    """The locality lines in the order the destination's post reads them."""
    if country in ("GB", "IE"):
        return (city, region, zone)
    if country in ("US", "CA", "AU"):
        return (" ".join(filter(None, (city, region, zone))),)
    return (" ".join(filter(None, (zone, city))), region)


def _line(el: etree._Element, qty_tag: str) -> Line:
    qty = el.find(qty_tag, NAMESPACES)
    return Line(
        number=_t(el, "cbc:ID"),
        name=_t(el, "cac:Item/cbc:Name"),
        description=_t(el, "cac:Item/cbc:Description"),
        item_id=_t(el, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
        note=_t(el, "cbc:Note"),
        quantity=_amount(_clean(qty.text or "")) if qty is not None else None,
        unit=_clean(qty.get("unitCode", ""))[:MAX_CODE] if qty is not None else "",
        unit_price=_amount(_t(el, "cac:Price/cbc:PriceAmount")),
        base_quantity=_amount(_t(el, "cac:Price/cbc:BaseQuantity")),
        net=_amount(_t(el, "cbc:LineExtensionAmount")),
        vat=_vat(el.find("cac:Item/cac:ClassifiedTaxCategory", NAMESPACES)),
    )


def _vat(category: etree._Element | None) -> str:
    rate = _amount(_t(category, "cbc:Percent"))
    return " ".join(filter(None, (_t(category, "cbc:ID"), percent(rate))))


def _tax_total(root: etree._Element, currency: str) -> etree._Element | None:
    # A second TaxTotal may give the VAT in the accounting currency (BT-111):
    # the one in the document currency is the one that adds up.
    totals = list(root.iterfind("cac:TaxTotal", NAMESPACES))
    for total in totals:
        amount = total.find("cbc:TaxAmount", NAMESPACES)
        if amount is not None and amount.get("currencyID", currency) == currency:
            return total
    return totals[0] if totals else None


def _vat_rows(root: etree._Element, currency: str) -> list[VatRow]:
    total = _tax_total(root, currency)
    if total is None:
        return []
    return [
        VatRow(
            category=_t(sub, "cac:TaxCategory/cbc:ID"),
            rate=_amount(_t(sub, "cac:TaxCategory/cbc:Percent")),
            taxable=_amount(_t(sub, "cbc:TaxableAmount")),
            tax=_amount(_t(sub, "cbc:TaxAmount")),
            reason=_t(sub, "cac:TaxCategory/cbc:TaxExemptionReason")
            or _t(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
        )
        for sub in total.iterfind("cac:TaxSubtotal", NAMESPACES)
    ]


def _totals(root: etree._Element, currency: str) -> Totals:
    lmt = root.find("cac:LegalMonetaryTotal", NAMESPACES)

    def a(tag: str) -> Decimal | None:
        return _amount(_t(lmt, f"cbc:{tag}"))

    return Totals(
        line_net=a("LineExtensionAmount"),
        allowances=a("AllowanceTotalAmount"),
        charges=a("ChargeTotalAmount"),
        tax_exclusive=a("TaxExclusiveAmount"),
        vat=_amount(_t(_tax_total(root, currency), "cbc:TaxAmount")),
        tax_inclusive=a("TaxInclusiveAmount"),
        prepaid=a("PrepaidAmount"),
        rounding=a("PayableRoundingAmount"),
        payable=a("PayableAmount"),
    )


def _payment(el: etree._Element) -> Payment:
    code_el = el.find("cbc:PaymentMeansCode", NAMESPACES)
    code = _clean(code_el.text or "") if code_el is not None else ""
    named = _clean(code_el.get("name", "")) if code_el is not None else ""
    account = "cac:PayeeFinancialAccount"
    return Payment(
        means=named or means_name(code),
        iban=_t(el, f"{account}/cbc:ID"),
        bic=_t(el, f"{account}/cac:FinancialInstitutionBranch/cbc:ID"),
        account_name=_t(el, f"{account}/cbc:Name"),
        reference=_t(el, "cbc:PaymentID"),
        mandate=_t(el, "cac:PaymentMandate/cbc:ID"),
        debited=_t(el, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"),
        means_code=code[:MAX_CODE],
    )


def _billing_refs(root: etree._Element) -> list[tuple[str, str]]:
    """(number, issue date) of each invoice referred to; those without a number dropped."""
    refs = root.iterfind("cac:BillingReference/cac:InvoiceDocumentReference", NAMESPACES)
    pairs = ((_t(ref, "cbc:ID"), _t(ref, "cbc:IssueDate")) for ref in refs)
    return [(number_, day) for number_, day in pairs if number_]
