"""DE-R-*: German rules on the parts of a document between German parties:
seller and buyer addresses, seller contact, delivery address, attachments,
payment means and VAT breakdown."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    below,
    cac,
    cbc,
    kids,
    normalize_space,
    normalize_space_of,
    string,
    string_value,
)
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_ids import iban
from gateway.validation.rules.peppol_vars import SUPPLIER, both_de
from gateway.validation.rules.shape import Assert, Context

_EMAIL: Final = re.compile(r"[^@ \t\n\r]+@([^@. \t\n\r]+\.)+[^@. \t\n\r]+\Z")
_URL: Final = re.compile(r"([a-zA-Z])([a-zA-Z0-9+.-])+:[^\n\r]*")


def german(nodes: Callable[[Doc], list[Element]]) -> Callable[[Doc], list[Element]]:
    return lambda doc: nodes(doc) if both_de(doc) else []


def filled(*tags: str) -> Callable[[Element, Doc], bool]:
    """``tags[boolean(normalize-space(.))]``: one such element has non-blank text."""
    return lambda e, d: any(normalize_space(string_value(x)) for x in below(d, e, *tags))


def _payment_means(*codes: str) -> Callable[[Doc], list[Element]]:
    def nodes(doc: Doc) -> list[Element]:
        out = []
        for pm in doc.all("cac:PaymentMeans"):
            try:
                if normalize_space_of(kids(doc, pm, Cbc.PaymentMeansCode)) in codes:
                    out.append(pm)
            except DynamicError:
                continue
        return out

    return german(nodes)


def _iban_at(*tags: str) -> Callable[[Element, Doc], bool]:
    return lambda e, d: iban(string(below(d, e, *tags)))


def _lacks(*tags: str) -> Callable[[Element, Doc], bool]:
    return lambda e, d: not any(kids(d, e, cac(t)) for t in tags)


def _has(tag: str) -> Callable[[Element, Doc], bool]:
    return lambda e, d: bool(kids(d, e, cac(tag)))


def _three_digits(e: Element, doc: Doc) -> bool:
    """``matches(normalize-space(cbc:Telephone), '.*([0-9].*){3,}.*')``: three ASCII digits."""
    return sum(c in "0123456789" for c in normalize_space_of(kids(doc, e, Cbc.Telephone))) >= 3


def _matches(pattern: re.Pattern[str], tag: str) -> Callable[[Element, Doc], bool]:
    return lambda e, d: pattern.match(normalize_space_of(kids(d, e, cbc(tag)))) is not None


PARTS: Final = (
    Context(
        "an external attachment reference between German parties",
        german(
            lambda d: d.all("cac:AdditionalDocumentReference/cac:Attachment/cac:ExternalReference")
        ),
        (
            Assert(
                "DE-R-T02",
                "warning",
                "The external document location (BT-124) should be an absolute URL.",
                lambda e, d: _URL.match(string(kids(d, e, Cbc.URI))) is not None,
            ),
        ),
    ),
    Context(
        "the seller of a German document",
        german(lambda d: d.all("cac:AccountingSupplierParty")),
        (
            Assert(
                "DE-R-002",
                "fatal",
                "The seller contact (BG-6) shall be given.",
                lambda e, d: bool(below(d, e, Cac.Party, Cac.Contact)),
            ),
        ),
    ),
    Context(
        "the seller address of a German document",
        german(lambda d: d.all(SUPPLIER + "/cac:PostalAddress")),
        (
            Assert(
                "DE-R-003",
                "fatal",
                "The seller city (BT-37) shall be given.",
                filled(Cbc.CityName),
            ),
            Assert(
                "DE-R-004",
                "fatal",
                "The seller post code (BT-38) shall be given.",
                filled(Cbc.PostalZone),
            ),
        ),
    ),
    Context(
        "the seller contact of a German document",
        german(lambda d: d.all(SUPPLIER + "/cac:Contact")),
        (
            Assert(
                "DE-R-005",
                "fatal",
                "The seller contact point (BT-41) shall be given.",
                filled(Cbc.Name),
            ),
            Assert(
                "DE-R-006",
                "fatal",
                "The seller contact telephone (BT-42) shall be given.",
                filled(Cbc.Telephone),
            ),
            Assert(
                "DE-R-007",
                "fatal",
                "The seller contact email (BT-43) shall be given.",
                filled(Cbc.ElectronicMail),
            ),
            Assert(
                "DE-R-027",
                "warning",
                "The seller contact telephone (BT-42) should contain at least three digits.",
                _three_digits,
            ),
            Assert(
                "DE-R-028",
                "warning",
                "The seller contact email (BT-43) should be one address with a domain.",
                _matches(_EMAIL, "ElectronicMail"),
            ),
        ),
    ),
    Context(
        "the buyer address of a German document",
        german(lambda d: d.all("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress")),
        (
            Assert(
                "DE-R-008",
                "fatal",
                "The buyer city (BT-52) shall be given.",
                filled(Cbc.CityName),
            ),
            Assert(
                "DE-R-009",
                "fatal",
                "The buyer post code (BT-53) shall be given.",
                filled(Cbc.PostalZone),
            ),
        ),
    ),
    Context(
        "the delivery address of a German document",
        german(lambda d: d.all("cac:Delivery/cac:DeliveryLocation/cac:Address")),
        (
            Assert(
                "DE-R-010",
                "fatal",
                "A deliver-to address needs its city (BT-77).",
                filled(Cbc.CityName),
            ),
            Assert(
                "DE-R-011",
                "fatal",
                "A deliver-to address needs its post code (BT-78).",
                filled(Cbc.PostalZone),
            ),
        ),
    ),
    Context(
        "a credit transfer between German parties",
        _payment_means("30", "58"),
        (
            Assert(
                "DE-R-019",
                "warning",
                "With SEPA credit transfer (58) the payment account (BT-84) should be a "
                "valid IBAN.",
                lambda e, d: (
                    normalize_space_of(kids(d, e, Cbc.PaymentMeansCode)) != "58"
                    or _iban_at(Cac.PayeeFinancialAccount, Cbc.ID)(e, d)
                ),
            ),
            Assert(
                "DE-R-023-1",
                "fatal",
                "A credit transfer (30, 58) needs the credit transfer group (BG-17).",
                _has("PayeeFinancialAccount"),
            ),
            Assert(
                "DE-R-023-2",
                "fatal",
                "A credit transfer (30, 58) shall not carry card (BG-18) or direct debit "
                "(BG-19) information.",
                _lacks("CardAccount", "PaymentMandate"),
            ),
        ),
    ),
    Context(
        "a card payment between German parties",
        _payment_means("48", "54", "55"),
        (
            Assert(
                "DE-R-024-1",
                "fatal",
                "A card payment (48, 54, 55) needs the payment card group (BG-18).",
                _has("CardAccount"),
            ),
            Assert(
                "DE-R-024-2",
                "fatal",
                "A card payment (48, 54, 55) shall not carry credit transfer (BG-17) or "
                "direct debit (BG-19) information.",
                _lacks("PayeeFinancialAccount", "PaymentMandate"),
            ),
        ),
    ),
    Context(
        "a direct debit between German parties",
        _payment_means("59"),
        (
            Assert(
                "DE-R-020",
                "warning",
                "With SEPA direct debit (59) the debited account (BT-91) should be a valid IBAN.",
                lambda e, d: (
                    normalize_space_of(kids(d, e, Cbc.PaymentMeansCode)) != "59"
                    or _iban_at(Cac.PaymentMandate, Cac.PayerFinancialAccount, Cbc.ID)(e, d)
                ),
            ),
            Assert(
                "DE-R-025-1",
                "fatal",
                "A direct debit (59) needs the direct debit group (BG-19).",
                _has("PaymentMandate"),
            ),
            Assert(
                "DE-R-025-2",
                "fatal",
                "A direct debit (59) shall not carry credit transfer (BG-17) or card "
                "(BG-18) information.",
                _lacks("PayeeFinancialAccount", "CardAccount"),
            ),
        ),
    ),
    Context(
        "a VAT breakdown of a German document",
        german(lambda d: d.all("cac:TaxTotal/cac:TaxSubtotal")),
        (
            Assert(
                "DE-R-014",
                "fatal",
                "The VAT category rate (BT-119) shall be given.",
                filled(Cac.TaxCategory, Cbc.Percent),
            ),
        ),
    ),
)
