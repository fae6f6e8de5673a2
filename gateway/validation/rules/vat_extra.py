"""The VAT rules that only one category has: BR-IC-11/12 (delivery of an
intra-community supply), BR-O-11..14 (nothing else beside "not subject to
VAT") and BR-B-01/02 (Italian split payment)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final

from gateway.validation.rules.kernel import DynamicError, both, either, ok, string_value
from gateway.validation.rules.model import CBC, Doc, Element
from gateway.validation.rules.vat_checks import CodeRule, root_rule
from gateway.validation.rules.vat_facts import Cat, Facts

IDENTIFICATION_CODE: Final = f"{{{CBC}}}IdentificationCode"
DELIVERY_DATE: Final = "cac:Delivery/cbc:ActualDeliveryDate"
DELIVERY_COUNTRY: Final = (
    "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode"
)


def _string_length(elements: list[Element]) -> int:
    """fn:string-length of a path: 0 when absent, an error for several."""
    if len(elements) > 1:
        raise DynamicError("string-length of more than one value")
    return len(string_value(elements[0])) if elements else 0


def _in_breakdown(f: Facts, code: str) -> bool:
    """``cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[VAT]/cbc:ID[normalize-space(.) = code]``."""
    return any(c.is_vat() and c.has_normalized_id(code) for c in f.breakdown)


def _if_in_breakdown(code: str, condition: Callable[[], bool], f: Facts) -> bool:
    """``(exists(breakdown code) and condition) or not(breakdown code)``."""
    return either(
        lambda: both(lambda: _in_breakdown(f, code), condition),
        lambda: not _in_breakdown(f, code),
    )


def _intra_community_delivery(doc: Doc, f: Facts) -> bool:
    """BR-IC-11: an actual delivery date (BT-72) or an invoicing period (BG-14)."""
    return _if_in_breakdown(
        "K",
        lambda: either(
            lambda: _string_length(doc.all(DELIVERY_DATE)) > 1,
            lambda: any(
                next(p.iterchildren("*"), None) is not None for p in doc.all("cac:InvoicePeriod")
            ),
        ),
        f,
    )


def _intra_community_country(doc: Doc, f: Facts) -> bool:
    """BR-IC-12: a deliver to country code (BT-80)."""
    return _if_in_breakdown("K", lambda: _string_length(doc.all(DELIVERY_COUNTRY)) > 1, f)


def _only_o(cats: Iterable[Cat]) -> bool:
    """No ``[normalize-space(cbc:ID) != 'O'][VAT scheme]`` category among ``cats``."""
    return not any(ok(c.code) != "O" and c.is_vat() for c in cats)


def _allowance_cats(f: Facts, is_charge: bool) -> Iterator[Cat]:
    """``//cac:AllowanceCharge[cbc:ChargeIndicator = is_charge]/cac:TaxCategory``."""
    for ac in f.allowance_charges:
        if ok(ac.charge if is_charge else ac.allowance):
            yield from ac.cats


def _split_payment_italian(doc: Doc, f: Facts) -> bool:
    """BR-B-01: with category B anywhere, every country code is 'IT'."""
    used = any(c.has_id("B") for c in f.taxcats) or any(c.has_id("B") for c in f.classified)
    codes = doc.root.iter(IDENTIFICATION_CODE)  # //cbc:IdentificationCode
    return not used or not any(string_value(e) != "IT" for e in codes)


def _document_uses(f: Facts, code: str) -> bool:
    """The code on the breakdown, a document level allowance/charge or a line."""
    return (
        any(c.has_id(code) for c in f.breakdown)
        or any(c.has_id(code) for ac in f.allowance_charges if ac.root_level for c in ac.cats)
        or any(c.has_id(code) for c in f.classified)
    )


def _o_breakdown_only(doc: Doc, f: Facts) -> bool:
    return _if_in_breakdown("O", lambda: _only_o(f.breakdown), f)


def _o_lines_only(doc: Doc, f: Facts) -> bool:
    return _if_in_breakdown("O", lambda: _only_o(f.classified), f)


def _o_allowances_only(doc: Doc, f: Facts) -> bool:
    return _if_in_breakdown("O", lambda: _only_o(_allowance_cats(f, False)), f)


def _o_charges_only(doc: Doc, f: Facts) -> bool:
    return _if_in_breakdown("O", lambda: _only_o(_allowance_cats(f, True)), f)


_O = "An invoice with a VAT breakdown (BG-23) of category Not subject to VAT ('O') shall have"

EXTRA_RULES: tuple[CodeRule, ...] = (
    root_rule(
        "BR-IC-11",
        "K",
        "An invoice with an Intra-community supply VAT breakdown (BT-118 = 'K') shall have "
        "the Actual delivery date (BT-72) or an Invoicing period (BG-14)",
        _intra_community_delivery,
    ),
    root_rule(
        "BR-IC-12",
        "K",
        "An invoice with an Intra-community supply VAT breakdown (BT-118 = 'K') shall have "
        "the Deliver to country code (BT-80)",
        _intra_community_country,
    ),
    root_rule(
        "BR-O-11",
        "O",
        f"{_O} no VAT breakdown of another category",
        _o_breakdown_only,
    ),
    root_rule(
        "BR-O-12",
        "O",
        f"{_O} no invoice line of another VAT category (BT-151)",
        _o_lines_only,
    ),
    root_rule(
        "BR-O-13",
        "O",
        f"{_O} no document level allowance of another VAT category (BT-95)",
        _o_allowances_only,
    ),
    root_rule(
        "BR-O-14",
        "O",
        f"{_O} no document level charge of another VAT category (BT-102)",
        _o_charges_only,
    ),
    root_rule(
        "BR-B-01",
        "B",
        "Split payment (VAT category 'B') is only for domestic Italian invoices: every "
        "country code (BT-40, BT-55, ...) shall be 'IT'",
        _split_payment_italian,
    ),
    root_rule(
        "BR-B-02",
        "B",
        "An invoice with split payment (VAT category 'B') shall not also use the Standard "
        "rated category ('S')",
        lambda doc, f: not _document_uses(f, "B") or not _document_uses(f, "S"),
    ),
)
