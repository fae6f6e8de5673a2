"""IS-R-*: Icelandic rules, for a seller (and buyer) whose postal address
country code is IS as written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    below,
    both,
    either,
    kids,
    normalize_space,
    normalize_space_of,
    string,
    string_value,
)
from gateway.validation.rules.kernel_numbers import castable_date
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_vars import SUPPLIER, both_raw, raw_supplier
from gateway.validation.rules.shape import Assert, Context, Pattern


def _icelandic(doc: Doc) -> list[Element]:
    return [doc.root] if raw_supplier(doc) == "IS" else []


def _type_code(e: Element, doc: Doc) -> bool:
    def one_of(name: str) -> Callable[[], bool]:
        return lambda: both(
            lambda: " " not in normalize_space_of(doc.all(name)),
            lambda: f" {normalize_space_of(doc.all(name))} " in " 380 381 ",
        )

    return either(one_of("cbc:InvoiceTypeCode"), one_of("cbc:CreditNoteTypeCode"))


def _is_legal_id(doc: Doc, where: str) -> bool:
    ids = doc.all(where + "/cac:PartyLegalEntity/cbc:CompanyID")
    return bool(ids) and any(i.get("schemeID") == "0196" for i in ids)


def _buyer_legal_id(e: Element, doc: Doc) -> bool:
    """IS-R-004, read from the buyer (cac:AccountingCustomerParty) in context."""
    ids = below(doc, e, Cac.Party, Cac.PartyLegalEntity, Cbc.CompanyID)
    return bool(ids) and any(i.get("schemeID") == "0196" for i in ids)


def _buyer_address(e: Element, doc: Doc) -> bool:
    address = (Cac.Party, Cac.PostalAddress)
    return bool(below(doc, e, *address, Cbc.StreetName)) and bool(
        below(doc, e, *address, Cbc.PostalZone)
    )


def _is_address(doc: Doc, where: str) -> bool:
    return doc.has(where + "/cac:PostalAddress/cbc:StreetName") and doc.has(
        where + "/cac:PostalAddress/cbc:PostalZone"
    )


def _account_12(code: str) -> Callable[[Element, Doc], bool]:
    def test(e: Element, doc: Doc) -> bool:
        means = [
            pm
            for pm in doc.all("cac:PaymentMeans")
            if any(string_value(c) == code for c in kids(doc, pm, Cbc.PaymentMeansCode))
        ]
        if not means:
            return True
        ids = [i for pm in means for i in below(doc, pm, Cac.PayeeFinancialAccount, Cbc.ID)]
        return bool(ids) and len(normalize_space(string(ids, schema=False))) == 12

    return test


def _eindagi(doc: Doc) -> list[Element]:
    return [
        r
        for r in doc.all("cac:AdditionalDocumentReference")
        if any(string_value(d) == "EINDAGI" for d in kids(doc, r, Cbc.DocumentDescription))
    ]


def _eindagi_ids(doc: Doc) -> list[Element]:
    return [i for r in _eindagi(doc) for i in kids(doc, r, Cbc.ID)]


def _eindagi_format(e: Element, doc: Doc) -> bool:
    if not _eindagi(doc):
        return True
    text = string(_eindagi_ids(doc), schema=False)
    return len(text) == 10 and castable_date(text)


def _eindagi_after_due(e: Element, doc: Doc) -> bool:
    if not _eindagi(doc):
        return True
    due = [string_value(x) for x in doc.all("cbc:DueDate")]
    return any(d <= string_value(i) for d in due for i in _eindagi_ids(doc))


ICELAND: Final = Pattern(
    (
        Context(
            "a document from an Icelandic seller",
            _icelandic,
            (
                Assert(
                    "IS-R-001",
                    "warning",
                    "An Icelandic seller's invoice type code (BT-3) should be 380 or 381.",
                    _type_code,
                ),
                Assert(
                    "IS-R-002",
                    "fatal",
                    "An Icelandic seller shall give its kennitala (BT-30) in scheme 0196.",
                    lambda e, d: _is_legal_id(d, SUPPLIER),
                ),
                Assert(
                    "IS-R-003",
                    "fatal",
                    "An Icelandic seller's address needs street (BT-35) and post code (BT-38).",
                    lambda e, d: _is_address(d, SUPPLIER),
                ),
                Assert(
                    "IS-R-006",
                    "fatal",
                    "Icelandic payment means 9 (BT-81) needs a 12-digit account (BT-84).",
                    _account_12("9"),
                ),
                Assert(
                    "IS-R-007",
                    "fatal",
                    "Icelandic payment means 42 (BT-81) needs a 12-digit account (BT-84).",
                    _account_12("42"),
                ),
                Assert(
                    "IS-R-008",
                    "fatal",
                    "An EINDAGI document reference (BT-122) shall be a date YYYY-MM-DD.",
                    _eindagi_format,
                ),
                Assert(
                    "IS-R-009",
                    "fatal",
                    "An EINDAGI document reference needs a payment due date (BT-9).",
                    lambda e, d: not _eindagi(d) or d.has("cbc:DueDate"),
                ),
                Assert(
                    "IS-R-010",
                    "fatal",
                    "The EINDAGI date shall not be before the payment due date (BT-9).",
                    _eindagi_after_due,
                ),
            ),
        ),
        Context(
            "the Icelandic buyer of an Icelandic seller",
            lambda d: d.all("cac:AccountingCustomerParty") if both_raw(d, "IS") else [],
            (
                Assert(
                    "IS-R-004",
                    "fatal",
                    "An Icelandic buyer's kennitala (BT-47) shall be given in scheme 0196.",
                    _buyer_legal_id,
                ),
                Assert(
                    "IS-R-005",
                    "fatal",
                    "An Icelandic buyer's address shall have street (BT-50) and post code (BT-53).",
                    _buyer_address,
                ),
            ),
        ),
    ),
    when=lambda d: raw_supplier(d) == "IS",
)
