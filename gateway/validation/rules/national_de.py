"""DE-R-*: German (XRechnung) rules, for a seller and a buyer both with a
postal address in Germany."""

from __future__ import annotations

import re
from typing import Final

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    below,
    either,
    kids,
    normalize_space,
    normalize_space_of,
    string_value,
)
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.national_de_parts import PARTS, german
from gateway.validation.rules.peppol_vars import SUPPLIER, both_de
from gateway.validation.rules.shape import Assert, Context, Pattern

# Cash discount line in payment terms, e.g. "#SKONTO#TAGE=14#PROZENT=2.00#".
_SKONTO: Final = re.compile(
    r"(^|\r?\n)#(SKONTO)#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#\Z"
)
_SEGMENT: Final = re.compile(r"#[^\n\r]+#")
_LINE_BREAK_FIRST: Final = re.compile(r"[ \t\n\r]*\n")
VAT_CODES: Final = ("S", "Z", "E", "AE", "K", "G", "L", "M")
TYPE_CODES: Final = ("326", "380", "384", "389", "381", "875", "876", "877")


def _vat_ids(doc: Doc, indicator: str) -> list[str]:
    """Category codes of document level allowances (false) or charges (true)."""
    return [
        string_value(i)
        for a in doc.all("cac:AllowanceCharge")
        if any(string_value(c) == indicator for c in kids(doc, a, Cbc.ChargeIndicator))
        for i in below(doc, a, Cac.TaxCategory, Cbc.ID)
    ]


def _seller_tax_id(e: Element, doc: Doc) -> bool:
    categories = (
        _vat_ids(doc, "false")
        + _vat_ids(doc, "true")
        + [
            string_value(i)
            for line in doc.all("cac:InvoiceLine") + doc.all("cac:CreditNoteLine")
            for i in below(doc, line, Cac.Item, Cac.ClassifiedTaxCategory, Cbc.ID)
        ]
    )
    if not any(c in VAT_CODES for c in categories):
        return True
    if doc.has("cac:TaxRepresentativeParty"):
        return True
    return any(
        normalize_space(string_value(i))
        for i in doc.all(SUPPLIER + "/cac:PartyTaxScheme/cbc:CompanyID")
    )


def _type_code(e: Element, doc: Doc) -> bool:
    return either(
        lambda: normalize_space_of(doc.all("cbc:InvoiceTypeCode")) in TYPE_CODES,
        lambda: normalize_space_of(doc.all("cbc:CreditNoteTypeCode")) in TYPE_CODES,
    )


def _last_segment_tail(notes: list[Element]) -> str:
    """The text after the last '#...#' segment of the (single) payment terms note."""
    tails = []
    for n in notes:
        text = string_value(n)
        pieces = _SEGMENT.split(text) if text else []
        if pieces:
            tails.append(pieces[-1])
    if len(tails) > 1:
        raise DynamicError("several payment terms notes where one is read", schema=False)
    return tails[0] if tails else ""


def _skonto(e: Element, doc: Doc) -> bool:
    notes = [n for t in doc.all("cac:PaymentTerms") for n in kids(doc, t, Cbc.Note)[:1]]
    lines = [
        line
        for n in notes
        for line in re.split(r"\r?\n", string_value(n))
        if normalize_space(line).startswith("#")
    ]
    for line in lines:
        if not _SKONTO.search(normalize_space(line)):
            return False
        if not _LINE_BREAK_FIRST.match(_last_segment_tail(notes)):
            return False
    return True


def _unique_filenames(e: Element, doc: Doc) -> bool:
    seen: set[str] = set()
    for ref in doc.all("cac:AdditionalDocumentReference"):
        names = [
            o.get("filename")
            for o in below(doc, ref, Cac.Attachment, Cbc.EmbeddedDocumentBinaryObject)
        ]
        present = {n for n in names if n is not None}
        if present & seen:
            return False
        seen |= present
    return True


def _corrected_has_reference(e: Element, doc: Doc) -> bool:
    return either(
        lambda: (
            not either(
                lambda: normalize_space_of(doc.all("cbc:InvoiceTypeCode")) == "384",
                lambda: normalize_space_of(doc.all("cbc:CreditNoteTypeCode")) == "384",
            )
        ),
        lambda: doc.has("cac:BillingReference/cac:InvoiceDocumentReference"),
    )


def _sepa_creditor(e: Element, doc: Doc) -> bool:
    if not doc.has("cac:PaymentMeans/cac:PaymentMandate"):
        return True
    ids = doc.all(SUPPLIER + "/cac:PartyIdentification/cbc:ID") + doc.all(
        "cac:PayeeParty/cac:PartyIdentification/cbc:ID"
    )
    return any(i.get("schemeID") == "SEPA" for i in ids)


GERMANY: Final = Pattern(
    (
        Context(
            "a document between German parties",
            german(lambda d: [d.root]),
            (
                Assert(
                    "DE-R-001",
                    "fatal",
                    "Payment instructions (BG-16) shall be given.",
                    lambda e, d: d.has("cac:PaymentMeans"),
                ),
                Assert(
                    "DE-R-015",
                    "fatal",
                    "The buyer reference (BT-10) shall be given.",
                    lambda e, d: any(
                        normalize_space(string_value(b)) for b in d.all("cbc:BuyerReference")
                    ),
                ),
                Assert(
                    "DE-R-016",
                    "fatal",
                    "With VAT categories S, Z, E, AE, K, G, L or M the seller VAT identifier "
                    "(BT-31), tax registration (BT-32) or tax representative (BG-11) shall be "
                    "given.",
                    _seller_tax_id,
                ),
                Assert(
                    "DE-R-017",
                    "warning",
                    "The invoice type code (BT-3) should be 326, 380, 384, 389, 381, 875, 876 "
                    "or 877.",
                    _type_code,
                ),
                Assert(
                    "DE-R-018",
                    "fatal",
                    "Cash discount terms in the payment terms (BT-20) shall follow the "
                    "#SKONTO#TAGE=n#PROZENT=n.nn# format, each ending with a line break.",
                    _skonto,
                ),
                Assert(
                    "DE-R-022",
                    "fatal",
                    "Attached documents (BT-125) shall have distinct file names.",
                    _unique_filenames,
                ),
                Assert(
                    "DE-R-026",
                    "warning",
                    "A corrected invoice (384) should reference the preceding invoice (BG-3).",
                    _corrected_has_reference,
                ),
                Assert(
                    "DE-R-030",
                    "fatal",
                    "A direct debit mandate needs the bank assigned creditor identifier (BT-90).",
                    _sepa_creditor,
                ),
                Assert(
                    "DE-R-031",
                    "fatal",
                    "A direct debit mandate needs the debited account identifier (BT-91).",
                    lambda e, d: (
                        not d.has("cac:PaymentMeans/cac:PaymentMandate")
                        or d.has(
                            "cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"
                        )
                    ),
                ),
            ),
        ),
        *PARTS,
    ),
    when=lambda d: bool(both_de(d)),
)
