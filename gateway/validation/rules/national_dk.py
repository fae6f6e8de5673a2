"""DK-R-*: Danish rules. They apply when the seller's postal address is in
Denmark (most of them only when the buyer's is too), the country code read as
written, without trimming or case folding."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from gateway.model import DocumentKind
from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    anywhere,
    below,
    both,
    either,
    kids,
    normalize_space,
    string,
    string_value,
    substring,
    text_of,
)
from gateway.validation.rules.kernel_numbers import number
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_vars import (
    SUPPLIER,
    both_raw,
    need,
    raw_customer,
    raw_supplier,
)
from gateway.validation.rules.shape import Assert, Context, Pattern

PAYMENT_CODE = Cbc.PaymentMeansCode
FINANCIAL_ACCOUNT = Cac.PayeeFinancialAccount
_GIRO_ACCOUNT: Final = re.compile(r"[0-9]{7,8}\Z")


def _danish_supplier(doc: Doc) -> list[Element]:
    return [doc.root] if raw_supplier(doc) == "DK" else []


def _both(nodes: Callable[[Doc], list[Element]]) -> Callable[[Doc], list[Element]]:
    return lambda doc: nodes(doc) if both_raw(doc, "DK") else []


def _legal_ids(doc: Doc) -> list[Element]:
    return doc.all(SUPPLIER + "/cac:PartyLegalEntity/cbc:CompanyID")


def _legal_id_given(e: Element, doc: Doc) -> bool:
    return normalize_space(text_of(_legal_ids(doc), schema=False) or "") != ""


def _scheme_0184(ids: list[Element]) -> bool:
    if not ids:
        return True
    schemes = [i for i in ids if i.get("schemeID") is not None]
    if len(schemes) > 1:
        raise DynamicError("several legal entity identifier schemes", schema=False)
    return normalize_space(schemes[0].get("schemeID") or "") == "0184" if schemes else False


def _no_negative_credit_note(e: Element, doc: Doc) -> bool:
    return not both(
        lambda: doc.kind is DocumentKind.CREDIT_NOTE,
        lambda: need(raw_customer(doc)) == "DK",
        lambda: number(text_of(doc.all("cac:LegalMonetaryTotal/cbc:PayableAmount")) or "") < 0,
    )


def _scheme_given(e: Element, doc: Doc) -> bool:
    ids = kids(doc, e, Cbc.ID)
    if not ids:
        return True
    schemes = [s for s in (i.get("schemeID") for i in ids) if s is not None]
    if len(schemes) > 1:
        raise DynamicError("a party identification with two identifiers", schema=True)
    return normalize_space(schemes[0] if schemes else "") != ""


def _code(doc: Doc, e: Element, *codes: str) -> bool:
    """``cbc:PaymentMeansCode = (codes)``, no trimming."""
    return any(string_value(c) in codes for c in kids(doc, e, PAYMENT_CODE))


def _prefix(doc: Doc, e: Element, *prefixes: str) -> Callable[[], bool]:
    """``substring(cbc:PaymentID, 1, 3) = p1 or ...`` (several payment ids: an error)."""
    return lambda: substring(string(kids(doc, e, Cbc.PaymentID), schema=False), 1, 3) in prefixes


def _payment_id_length(doc: Doc, e: Element) -> int:
    return len(string(kids(doc, e, Cbc.PaymentID), schema=False))


def _filled(doc: Doc, e: Element, *tags: str) -> Callable[[], bool]:
    return lambda: normalize_space(text_of(below(doc, e, *tags)) or "") != ""


def _allowed_code(e: Element, doc: Doc) -> bool:
    code = string(kids(doc, e, PAYMENT_CODE))
    return f" {code} " in " 1 10 31 42 48 49 50 58 59 93 97 "


def _bank_account(e: Element, doc: Doc) -> bool:
    account = FINANCIAL_ACCOUNT
    return not both(
        lambda: _code(doc, e, "31", "42"),
        lambda: (
            not both(
                _filled(doc, e, account, Cbc.ID),
                _filled(doc, e, account, Cac.FinancialInstitutionBranch, Cbc.ID),
            )
        ),
    )


def _mandate(e: Element, doc: Doc) -> bool:
    mandate = Cac.PaymentMandate
    return not both(
        lambda: _code(doc, e, "49"),
        lambda: (
            not both(
                _filled(doc, e, mandate, Cbc.ID),
                _filled(doc, e, mandate, Cac.PayerFinancialAccount, Cbc.ID),
            )
        ),
    )


# Module functions rather than nested ones: once compiled, a nested function
# that another closure calls forms a reference cycle with it (see vat_breakdown).
def _giro_account_ok(doc: Doc, e: Element) -> bool:
    account = string(below(doc, e, FINANCIAL_ACCOUNT, Cbc.ID))
    return _GIRO_ACCOUNT.match(account) is not None


def _giro(e: Element, doc: Doc) -> bool:
    return not both(
        lambda: _code(doc, e, "50"),
        lambda: not both(_prefix(doc, e, "01#", "04#", "15#"), lambda: _giro_account_ok(doc, e)),
    )


def _giro_instruction(e: Element, doc: Doc) -> bool:
    return not both(
        lambda: _code(doc, e, "50"),
        _prefix(doc, e, "04#", "15#"),
        lambda: _payment_id_length(doc, e) != 19,
    )


def _fik_creditor_ok(doc: Doc, e: Element) -> bool:
    return len(text_of(below(doc, e, FINANCIAL_ACCOUNT, Cbc.ID)) or "") == 8


def _fik(e: Element, doc: Doc) -> bool:
    return not both(
        lambda: _code(doc, e, "93"),
        lambda: not both(_prefix(doc, e, "71#", "73#", "75#"), lambda: _fik_creditor_ok(doc, e)),
    )


def _fik_instruction(e: Element, doc: Doc) -> bool:
    return not both(
        lambda: _code(doc, e, "93"),
        _prefix(doc, e, "71#", "75#"),
        lambda: _payment_id_length(doc, e) not in (18, 19),
    )


_UNSPSC_VERSIONS: Final = ("19.05.01", "19.0501", "26.08.01", "26.0801")


def _unspsc_version(e: Element, doc: Doc) -> bool:
    codes = below(doc, e, Cac.Item, Cac.CommodityClassification, Cbc.ItemClassificationCode)
    if not any(c.get("listID") == "TST" for c in codes):
        return True
    return any(c.get("listVersionID") in _UNSPSC_VERSIONS for c in codes)


def _reason_text(doc: Doc, e: Element) -> bool:
    """A four-digit number 0000..9999, or text with a '#' not at either end."""
    reasons = kids(doc, e, Cbc.AllowanceChargeReason)

    def text() -> str:
        return string(reasons, schema=False)

    return either(
        lambda: both(
            lambda: len(normalize_space(text_of(reasons, schema=False) or "")) == 4,
            lambda: number(text()) >= 0,
            lambda: number(text()) <= 9999,
        ),
        lambda: both(
            lambda: bool(reasons),
            lambda: "#" in text(),
            lambda: not text().startswith("#"),
            lambda: not text().endswith("#"),
        ),
    )


def _zzz_reason(e: Element, doc: Doc) -> bool:
    if not any(string_value(c) == "ZZZ" for c in kids(doc, e, Cbc.AllowanceChargeReasonCode)):
        return True
    return _reason_text(doc, e)


DENMARK: Final = Pattern(
    (
        Context(
            "a document from a Danish seller",
            _danish_supplier,
            (
                Assert(
                    "DK-R-002",
                    "fatal",
                    "A Danish seller shall give its legal registration identifier (BT-30, CVR).",
                    _legal_id_given,
                ),
                Assert(
                    "DK-R-014",
                    "fatal",
                    "A Danish seller's legal identifier (BT-30) shall be in scheme 0184.",
                    lambda e, d: _scheme_0184(_legal_ids(d)),
                ),
                Assert(
                    "DK-R-016",
                    "fatal",
                    "A Danish credit note shall not have a negative amount due (BT-115).",
                    _no_negative_credit_note,
                ),
            ),
        ),
        Context(
            "a party identification of a Danish seller or buyer",
            _both(
                lambda d: (
                    d.all(SUPPLIER + "/cac:PartyIdentification")
                    + d.all("cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification")
                )
            ),
            (
                Assert(
                    "DK-R-013",
                    "fatal",
                    "A Danish party identifier (BT-29, BT-46) shall carry its scheme.",
                    _scheme_given,
                ),
            ),
        ),
        Context(
            "a payment means between Danish parties",
            lambda d: (
                d.all("cac:PaymentMeans")
                if d.kind is DocumentKind.INVOICE and both_raw(d, "DK")
                else []
            ),
            (
                Assert(
                    "DK-R-005",
                    "fatal",
                    "Danish payment means codes (BT-81) are 1, 10, 31, 42, 48, 49, 50, 58, 59, "
                    "93 and 97.",
                    _allowed_code,
                ),
                Assert(
                    "DK-R-006",
                    "fatal",
                    "Payment means 31 or 42 need the account (BT-84) and its registration "
                    "number (BT-86).",
                    _bank_account,
                ),
                Assert(
                    "DK-R-007",
                    "fatal",
                    "Payment means 49 needs the mandate reference (BT-89) and the debited "
                    "account (BT-91).",
                    _mandate,
                ),
                Assert(
                    "DK-R-008",
                    "fatal",
                    "Giro (50) needs a payment id (BT-83) starting 01#, 04# or 15# and a 7 or "
                    "8 digit account (BT-84).",
                    _giro,
                ),
                Assert(
                    "DK-R-009",
                    "fatal",
                    "A giro payment id (BT-83) starting 04# or 15# shall be 19 characters.",
                    _giro_instruction,
                ),
                Assert(
                    "DK-R-010",
                    "fatal",
                    "FIK (93) needs a payment id (BT-83) starting 71#, 73# or 75# and an "
                    "8-character creditor number (BT-84).",
                    _fik,
                ),
                Assert(
                    "DK-R-011",
                    "fatal",
                    "A FIK payment id (BT-83) starting 71# or 75# shall be 18 or 19 characters.",
                    _fik_instruction,
                ),
            ),
        ),
        Context(
            "a Danish buyer",
            _both(lambda d: d.all("cac:AccountingCustomerParty/cac:Party")),
            (
                Assert(
                    "DK-R-017",
                    "fatal",
                    "A Danish buyer's legal registration identifier (BT-47) shall use scheme 0184.",
                    lambda e, d: _scheme_0184(below(d, e, Cac.PartyLegalEntity, Cbc.CompanyID)),
                ),
            ),
        ),
        Context(
            "a line between Danish parties",
            _both(lambda d: d.lines()),
            (
                Assert(
                    "DK-R-003",
                    "fatal",
                    "A Danish item classification (BT-158) in list TST shall be UNSPSC version "
                    "19.05.01 or 26.08.01.",
                    _unspsc_version,
                ),
            ),
        ),
        Context(
            "an allowance or charge between Danish parties",
            _both(lambda d: anywhere(d, Cac.AllowanceCharge)),
            (
                Assert(
                    "DK-R-004",
                    "fatal",
                    "With reason code ZZZ the reason (BT-97, BT-104) shall be a four-digit "
                    "number or text containing '#'.",
                    _zzz_reason,
                ),
            ),
        ),
    ),
    when=lambda d: raw_supplier(d) == "DK",
)
