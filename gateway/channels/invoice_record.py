"""A UBL 2.1 Invoice or CreditNote as a flat accounting record: one header
(``InvoiceRecord.header``) and one dict per line (``InvoiceRecord.lines``),
keyed by EN 16931 business term ids with a readable name ("BT-1_invoice_number").

Pure: an lxml root (or the payload bytes) in, plain dicts of strings out. The
accounting export writes it (``export.py``); the inbox API and webhooks can
show the same record.

Why these choices (docs/export.md says it for users):

* Keys carry the business term id, so an accountant can look any column up
  in EN 16931, and a readable name, so a spreadsheet header makes sense on
  its own. They are ASCII with no spaces, commas or quotes: every spreadsheet,
  CSV importer, pandas and SQL tool takes them as they are.
* Amounts and quantities are the document's own decimal text (surrounding
  whitespace removed): never a float, never rounded, never reformatted.
* Every text is one line: whitespace runs (line breaks included) become one
  space and control characters are dropped, so a CSV row is one physical
  line and a JSON line never splits. Nothing is cut short.
* A term the document does not carry is "".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from gateway.config.settings import LimitSettings
from gateway.model import DocumentKind
from gateway.validation.facts import BUYER_PARTY, NAMESPACES, SELLER_PARTY
from gateway.validation.parse import classify, parse_xml

HEADER_FIELDS: tuple[str, ...] = (
    "document_id",
    "document_kind",
    "received_at",
    "BT-1_invoice_number",
    "BT-2_issue_date",
    "BT-3_type_code",
    "BT-5_currency",
    "BT-6_vat_accounting_currency",
    "BT-9_due_date",
    "BT-10_buyer_reference",
    "BT-12_contract_reference",
    "BT-13_purchase_order",
    "BT-14_sales_order",
    "BT-19_buyer_accounting_reference",
    "BT-20_payment_terms",
    "BT-25_preceding_invoice",
    "BT-27_seller_name",
    "BT-28_seller_trading_name",
    "BT-29_seller_id",
    "BT-30_seller_legal_registration_id",
    "BT-31_seller_vat",
    "BT-34_seller_endpoint",
    "BT-40_seller_country",
    "BT-44_buyer_name",
    "BT-46_buyer_id",
    "BT-47_buyer_legal_registration_id",
    "BT-48_buyer_vat",
    "BT-49_buyer_endpoint",
    "BT-55_buyer_country",
    "BT-72_delivery_date",
    "BT-73_period_start",
    "BT-74_period_end",
    "BT-81_payment_means_code",
    "BT-83_remittance_information",
    "BT-84_payment_account",
    "BT-86_payment_bic",
    "BT-106_sum_of_lines",
    "BT-107_allowances",
    "BT-108_charges",
    "BT-109_total_without_vat",
    "BT-110_total_vat",
    "BT-111_total_vat_accounting_currency",
    "BT-112_total_with_vat",
    "BT-113_paid",
    "BT-114_rounding",
    "BT-115_amount_due",
    "BG-23_vat_breakdown",
)

VAT_FIELDS: tuple[str, ...] = (
    "BT-118_category",
    "BT-119_rate",
    "BT-116_taxable_amount",
    "BT-117_vat_amount",
    "BT-120_exemption_reason",
    "BT-121_exemption_reason_code",
)

LINE_FIELDS: tuple[str, ...] = (
    "document_id",
    "document_kind",
    "BT-1_invoice_number",
    "BT-5_currency",
    "BT-126_line_id",
    "BT-129_quantity",
    "BT-130_unit",
    "BT-131_line_net_amount",
    "BT-132_order_line_reference",
    "BT-133_line_accounting_reference",
    "BT-146_price",
    "BT-149_price_base_quantity",
    "BT-151_vat_category",
    "BT-152_vat_rate",
    "BT-153_item_name",
    "BT-154_item_description",
    "BT-155_seller_item_id",
    "BT-156_buyer_item_id",
    "BT-157_standard_item_id",
)

_PRECEDING = "cac:InvoiceDocumentReference"

# Several values of one term (preceding invoices) are joined with this.
JOIN = "; "


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    """The header (``HEADER_FIELDS``, the VAT breakdown a list of
    ``VAT_FIELDS`` dicts) and the lines (``LINE_FIELDS``) of one document."""

    header: dict[str, Any]
    lines: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        """The record as the inbox API and webhooks show it: the header's
        fields, and its lines under "lines"."""
        return {**self.header, "lines": [dict(line) for line in self.lines]}


def record_of(
    payload: bytes,
    limits: LimitSettings,
    *,
    document_id: str = "",
    received_at: datetime | None = None,
) -> InvoiceRecord:
    """The record of a UBL Invoice or CreditNote given as bytes.

    Raises the parser's ``InputError`` (``UnknownDocument`` for another root)
    when the bytes are not such a document."""
    return read_record(parse_xml(payload, limits), document_id=document_id, received_at=received_at)


def read_record(
    root: etree._Element, *, document_id: str = "", received_at: datetime | None = None
) -> InvoiceRecord:
    """The record of a parsed UBL Invoice or CreditNote root."""
    kind = classify(root)
    credit = kind is DocumentKind.CREDIT_NOTE
    currency = _t(root, "cbc:DocumentCurrencyCode")
    vat_currency = _t(root, "cbc:TaxCurrencyCode")
    seller = root.find(SELLER_PARTY, NAMESPACES)
    buyer = root.find(BUYER_PARTY, NAMESPACES)
    pay = root.find("cac:PaymentMeans", NAMESPACES)
    lmt = root.find("cac:LegalMonetaryTotal", NAMESPACES)
    vat_total = _tax_total(root, currency)
    preceding = (
        _clean(el.text or "")
        for el in root.iterfind(f"cac:BillingReference/{_PRECEDING}/cbc:ID", NAMESPACES)
    )
    number = _t(root, "cbc:ID")
    values: dict[str, Any] = {
        "document_id": document_id,
        "document_kind": kind.value,
        "received_at": received_at.isoformat() if received_at is not None else "",
        "BT-1_invoice_number": number,
        "BT-2_issue_date": _t(root, "cbc:IssueDate"),
        "BT-3_type_code": _t(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
        "BT-5_currency": currency,
        "BT-6_vat_accounting_currency": vat_currency,
        "BT-9_due_date": _t(root, "cbc:DueDate") or _t(pay, "cbc:PaymentDueDate"),
        "BT-10_buyer_reference": _t(root, "cbc:BuyerReference"),
        "BT-12_contract_reference": _t(root, "cac:ContractDocumentReference/cbc:ID"),
        "BT-13_purchase_order": _t(root, "cac:OrderReference/cbc:ID"),
        "BT-14_sales_order": _t(root, "cac:OrderReference/cbc:SalesOrderID"),
        "BT-19_buyer_accounting_reference": _t(root, "cbc:AccountingCost"),
        "BT-20_payment_terms": _t(root, "cac:PaymentTerms/cbc:Note"),
        "BT-25_preceding_invoice": JOIN.join(filter(None, preceding)),
        **_party(seller, "seller", ("27", "28", "29", "30", "31", "34", "40")),
        **_party(buyer, "buyer", ("44", "", "46", "47", "48", "49", "55")),
        "BT-72_delivery_date": _t(root, "cac:Delivery/cbc:ActualDeliveryDate"),
        "BT-73_period_start": _t(root, "cac:InvoicePeriod/cbc:StartDate"),
        "BT-74_period_end": _t(root, "cac:InvoicePeriod/cbc:EndDate"),
        "BT-81_payment_means_code": _t(pay, "cbc:PaymentMeansCode"),
        "BT-83_remittance_information": _t(pay, "cbc:PaymentID"),
        "BT-84_payment_account": _t(pay, "cac:PayeeFinancialAccount/cbc:ID"),
        "BT-86_payment_bic": _t(
            pay, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
        ),
        "BT-106_sum_of_lines": _t(lmt, "cbc:LineExtensionAmount"),
        "BT-107_allowances": _t(lmt, "cbc:AllowanceTotalAmount"),
        "BT-108_charges": _t(lmt, "cbc:ChargeTotalAmount"),
        "BT-109_total_without_vat": _t(lmt, "cbc:TaxExclusiveAmount"),
        "BT-110_total_vat": _t(vat_total, "cbc:TaxAmount"),
        "BT-111_total_vat_accounting_currency": _vat_in(root, vat_currency)
        if vat_currency and vat_currency != currency
        else "",
        "BT-112_total_with_vat": _t(lmt, "cbc:TaxInclusiveAmount"),
        "BT-113_paid": _t(lmt, "cbc:PrepaidAmount"),
        "BT-114_rounding": _t(lmt, "cbc:PayableRoundingAmount"),
        "BT-115_amount_due": _t(lmt, "cbc:PayableAmount"),
        "BG-23_vat_breakdown": _vat_breakdown(vat_total),
    }
    header = {name: values[name] for name in HEADER_FIELDS}
    line_tag, qty_tag = (
        ("cac:CreditNoteLine", "cbc:CreditedQuantity")
        if credit
        else ("cac:InvoiceLine", "cbc:InvoicedQuantity")
    )
    common = {
        "document_id": document_id,
        "document_kind": kind.value,
        "BT-1_invoice_number": number,
        "BT-5_currency": currency,
    }
    lines = [_line(el, qty_tag, common) for el in root.iterfind(line_tag, NAMESPACES)]
    return InvoiceRecord(header=header, lines=lines)


def one_line(text: str) -> str:
    """``text`` on one line: every whitespace run (line breaks, tabs, the
    Unicode line separators) one space, control characters dropped."""
    kept = "".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace())
    return " ".join(kept.split())


_clean = one_line


def _t(el: etree._Element | None, path: str) -> str:
    found = el.find(path, NAMESPACES) if el is not None else None
    return _clean(found.text or "") if found is not None else ""


def _endpoint(party: etree._Element | None) -> str:
    found = party.find("cbc:EndpointID", NAMESPACES) if party is not None else None
    if found is None:
        return ""
    value, scheme = _clean(found.text or ""), _clean(found.get("schemeID", ""))
    return f"{scheme}:{value}" if scheme and value else value


def _vat_id(party: etree._Element | None) -> str:
    """BT-31/BT-48: the tax registration under the VAT scheme (another scheme
    is BT-32, the seller's tax registration, which is not VAT)."""
    if party is None:
        return ""
    for scheme in party.iterfind("cac:PartyTaxScheme", NAMESPACES):
        if _t(scheme, "cac:TaxScheme/cbc:ID").upper() == "VAT":
            return _t(scheme, "cbc:CompanyID")
    return ""


def _party(party: etree._Element | None, role: str, bt: tuple[str, ...]) -> dict[str, str]:
    name, trading, pid, legal, vat, endpoint, country = bt
    out = {
        f"BT-{name}_{role}_name": _t(party, "cac:PartyLegalEntity/cbc:RegistrationName")
        or _t(party, "cac:PartyName/cbc:Name"),
        f"BT-{pid}_{role}_id": _t(party, "cac:PartyIdentification/cbc:ID"),
        f"BT-{legal}_{role}_legal_registration_id": _t(party, "cac:PartyLegalEntity/cbc:CompanyID"),
        f"BT-{vat}_{role}_vat": _vat_id(party),
        f"BT-{endpoint}_{role}_endpoint": _endpoint(party),
        f"BT-{country}_{role}_country": _t(
            party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        ),
    }
    if trading:
        out[f"BT-{trading}_{role}_trading_name"] = _t(party, "cac:PartyName/cbc:Name")
    return out


def _tax_total(root: etree._Element, currency: str) -> etree._Element | None:
    """The TaxTotal in the document currency (BT-110, with the breakdown); a
    second one may give the VAT in the accounting currency (BT-111)."""
    totals = list(root.iterfind("cac:TaxTotal", NAMESPACES))
    for total in totals:
        amount = total.find("cbc:TaxAmount", NAMESPACES)
        if amount is not None and amount.get("currencyID", currency) == currency:
            return total
    return totals[0] if totals else None


def _vat_in(root: etree._Element, currency: str) -> str:
    for amount in root.iterfind("cac:TaxTotal/cbc:TaxAmount", NAMESPACES):
        if amount.get("currencyID") == currency:
            return _clean(amount.text or "")
    return ""


def _vat_breakdown(total: etree._Element | None) -> list[dict[str, str]]:
    if total is None:
        return []
    return [
        {
            "BT-118_category": _t(sub, "cac:TaxCategory/cbc:ID"),
            "BT-119_rate": _t(sub, "cac:TaxCategory/cbc:Percent"),
            "BT-116_taxable_amount": _t(sub, "cbc:TaxableAmount"),
            "BT-117_vat_amount": _t(sub, "cbc:TaxAmount"),
            "BT-120_exemption_reason": _t(sub, "cac:TaxCategory/cbc:TaxExemptionReason"),
            "BT-121_exemption_reason_code": _t(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
        }
        for sub in total.iterfind("cac:TaxSubtotal", NAMESPACES)
    ]


def _line(el: etree._Element, qty_tag: str, common: dict[str, str]) -> dict[str, str]:
    qty = el.find(qty_tag, NAMESPACES)
    tax = "cac:Item/cac:ClassifiedTaxCategory"
    return {
        **common,
        "BT-126_line_id": _t(el, "cbc:ID"),
        "BT-129_quantity": _clean(qty.text or "") if qty is not None else "",
        "BT-130_unit": _clean(qty.get("unitCode", "")) if qty is not None else "",
        "BT-131_line_net_amount": _t(el, "cbc:LineExtensionAmount"),
        "BT-132_order_line_reference": _t(el, "cac:OrderLineReference/cbc:LineID"),
        "BT-133_line_accounting_reference": _t(el, "cbc:AccountingCost"),
        "BT-146_price": _t(el, "cac:Price/cbc:PriceAmount"),
        "BT-149_price_base_quantity": _t(el, "cac:Price/cbc:BaseQuantity"),
        "BT-151_vat_category": _t(el, f"{tax}/cbc:ID"),
        "BT-152_vat_rate": _t(el, f"{tax}/cbc:Percent"),
        "BT-153_item_name": _t(el, "cac:Item/cbc:Name"),
        "BT-154_item_description": _t(el, "cac:Item/cbc:Description"),
        "BT-155_seller_item_id": _t(el, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
        "BT-156_buyer_item_id": _t(el, "cac:Item/cac:BuyersItemIdentification/cbc:ID"),
        "BT-157_standard_item_id": _t(el, "cac:Item/cac:StandardItemIdentification/cbc:ID"),
    }
