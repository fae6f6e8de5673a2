"""GR-R-*, GR-S-*: Greek rules, for a seller whose country (VAT prefix, else
tax representative's, else address) is GR or EL.

A Greek invoice number has six '|'-separated segments: the seller's tax number
(AFM), the issue date as DD/MM/YYYY, a branch number, the document type, a
series and a serial number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import gateway.validation.rules.kernel as xp
from gateway.validation.rules.kernel_numbers import castable_integer, number
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_ids import greek_tin
from gateway.validation.rules.peppol_vars import (
    SUPPLIER,
    TAX_REP,
    accounting_supplier_country,
    greek_both,
    greek_sender,
)
from gateway.validation.rules.shape import Assert, Context, Pattern

_DATE: Final = re.compile(
    r"(0?[1-9]|[12][0-9]|3[01])[-\\/ ]?(0?[1-9]|1[0-2])[-\\/ ]?(19|20)[0-9]{2}"
)
_DOCUMENT_TYPES: Final = ("1.1", "1.6", "2.1", "2.4", "5.1", "5.2", "")
MARK: Final = "##M.AR.K##"
URL: Final = "##INVOICE|URL##"


def _segments(e: Element) -> list[str]:
    text = xp.string_value(e)
    return text.split("|") if text else []


def _segment(e: Element, n: int) -> str | None:
    segments = _segments(e)
    return segments[n - 1] if len(segments) >= n else None


def _vat_suffixes(doc: Doc, where: str) -> list[str]:
    """``where/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID = 'VAT']/substring(cbc:CompanyID, 3, 9)``."""
    out = []
    for pts in doc.all(where + "/cac:PartyTaxScheme"):
        if any(
            xp.string_value(i) == "VAT" for i in xp.below(doc, pts, xp.Cac.TaxScheme, xp.Cbc.ID)
        ):
            out.append(xp.substring(xp.string(xp.kids(doc, pts, xp.Cbc.CompanyID)), 3, 9))
    return out


def _tin_segment(e: Element, doc: Doc) -> bool:
    first = _segment(e, 1)
    if first is None or len(xp.normalize_space(first)) != 9 or not greek_tin(first):
        return False
    return xp.either(
        lambda: first in _vat_suffixes(doc, SUPPLIER),
        lambda: first in _vat_suffixes(doc, TAX_REP),
    )


def _issue_date_parts(doc: Doc) -> list[str]:
    text = xp.string(doc.all("cbc:IssueDate"))
    return text.split("-") if text else []


def _date_segment(e: Element, doc: Doc) -> bool:
    second = _segment(e, 2)
    if second is None or not xp.normalize_space(second) or not _DATE.match(second):
        return False
    parts = second.split("/")
    issue = xp.memo(doc, "peppol.grIssueDate", _issue_date_parts)
    pairs = ((0, 2), (1, 1), (2, 0))
    return all(len(parts) > i and len(issue) > j and parts[i] == issue[j] for i, j in pairs)


def _branch_segment(e: Element, doc: Doc) -> bool:
    third = _segment(e, 3)
    if third is None or not xp.normalize_space(third) or number(third) != number(third):
        return False
    if not castable_integer(third):
        raise xp.DynamicError(f"invoice number segment {third!r} is not an integer", schema=False)
    return int(third) >= 0


def _type_segment(e: Element, doc: Doc) -> bool:
    fourth = _segment(e, 4)
    return fourth is not None and xp.normalize_space(fourth) != "" and fourth in _DOCUMENT_TYPES


def _filled_segment(n: int) -> Callable[[Element, Doc], bool]:
    return lambda e, d: bool(_segment(e, n))


def _name_length(e: Element, doc: Doc) -> bool:
    names = xp.below(doc, e, xp.Cac.PartyName, xp.Cbc.Name)
    return len(xp.string(names, schema=False)) > 0


def _vat_ids(doc: Doc, e: Element) -> list[Element]:
    out = []
    for pts in xp.kids(doc, e, xp.Cac.PartyTaxScheme):
        if xp.normalize_space_of(xp.below(doc, pts, xp.Cac.TaxScheme, xp.Cbc.ID)) == "VAT":
            out.extend(xp.kids(doc, pts, xp.Cbc.CompanyID))
    return out


def _greek_vat(e: Element, doc: Doc) -> bool:
    ids = _vat_ids(doc, e)
    if len(ids) != 1:
        return False
    value = xp.string_value(ids[0])
    return value[:2] == "EL" and greek_tin(value[2:])


def _when(
    flag: Callable[[Doc], bool | None], nodes: Callable[[Doc], list[Element]]
) -> Callable[[Doc], list[Element]]:
    return lambda doc: nodes(doc) if flag(doc) else []


def _parties(role: str) -> Callable[[Doc], list[Element]]:
    tag = xp.cac(role)
    return lambda doc: [p for p in xp.anywhere(doc, xp.Cac.Party) if xp.parent_is(p, tag)]


def _greek_address(doc: Doc) -> bool:
    return any(
        xp.string_value(c) == "GR"
        for c in doc.all(SUPPLIER + "/cac:PostalAddress/cac:Country/cbc:IdentificationCode")
    )


def _references(doc: Doc, description: str) -> list[Element]:
    return [
        r
        for r in doc.all("cac:AdditionalDocumentReference")
        if any(
            xp.string_value(d) == description for d in xp.kids(doc, r, xp.Cbc.DocumentDescription)
        )
    ]


def _any_references(doc: Doc, description: str) -> list[Element]:
    return [
        r
        for r in xp.anywhere(doc, xp.Cac.AdditionalDocumentReference)
        if any(
            xp.string_value(d) == description for d in xp.kids(doc, r, xp.Cbc.DocumentDescription)
        )
    ]


def _supplier_vat_ids(doc: Doc) -> list[Element]:
    return [i for p in _parties("AccountingSupplierParty")(doc) for i in _safe_vat_ids(doc, p)]


def _safe_vat_ids(doc: Doc, party: Element) -> list[Element]:
    out = []
    for pts in xp.kids(doc, party, xp.Cac.PartyTaxScheme):
        try:
            if xp.normalize_space_of(xp.below(doc, pts, xp.Cac.TaxScheme, xp.Cbc.ID)) == "VAT":
                out.extend(xp.kids(doc, pts, xp.Cbc.CompanyID))
        except xp.DynamicError:
            continue
    return out


def _greek_endpoint_country(doc: Doc) -> bool:
    return accounting_supplier_country(doc) in ("GR", "EL")


def _tin_endpoint(e: Element, doc: Doc) -> bool:
    return e.get("schemeID") == "9933" and greek_tin(xp.string_value(e))


def _url_given(e: Element, doc: Doc) -> bool:
    uri = xp.below(doc, e, xp.Cac.Attachment, xp.Cac.ExternalReference, xp.Cbc.URI)
    return len(xp.normalize_space_of(uri)) > 0


GREECE: Final = Pattern(
    (
        Context(
            "the invoice number of a Greek seller",
            _when(greek_sender, lambda d: d.all("cbc:ID")),
            (
                Assert(
                    "GR-R-001-1",
                    "fatal",
                    "A Greek invoice number (BT-1) shall have six segments.",
                    lambda e, d: len(_segments(e)) == 6,
                ),
                Assert(
                    "GR-R-001-2",
                    "fatal",
                    "The first segment of a Greek invoice number (BT-1) shall be the seller's "
                    "or tax representative's valid tax number.",
                    _tin_segment,
                ),
                Assert(
                    "GR-R-001-3",
                    "fatal",
                    "The second segment of a Greek invoice number (BT-1) shall be the issue "
                    "date (BT-2) as DD/MM/YYYY.",
                    _date_segment,
                ),
                Assert(
                    "GR-R-001-4",
                    "fatal",
                    "The third segment of a Greek invoice number (BT-1) shall be a "
                    "non-negative integer.",
                    _branch_segment,
                ),
                Assert(
                    "GR-R-001-5",
                    "fatal",
                    "The fourth segment of a Greek invoice number (BT-1) shall be a Greek "
                    "document type.",
                    _type_segment,
                ),
                Assert(
                    "GR-R-001-6",
                    "fatal",
                    "The fifth segment of a Greek invoice number (BT-1) shall not be empty.",
                    _filled_segment(5),
                ),
                Assert(
                    "GR-R-001-7",
                    "fatal",
                    "The sixth segment of a Greek invoice number (BT-1) shall not be empty.",
                    _filled_segment(6),
                ),
            ),
        ),
        Context(
            "a Greek seller",
            _when(greek_sender, _parties("AccountingSupplierParty")),
            (
                Assert(
                    "GR-R-002", "fatal", "A Greek seller shall give its name (BT-27).", _name_length
                ),
                Assert(
                    "GR-S-011",
                    "warning",
                    "A Greek seller should give one VAT identifier (BT-31) with prefix EL "
                    "and a valid tax number.",
                    _greek_vat,
                ),
            ),
        ),
        Context(
            "the VAT identifier of a Greek seller",
            _when(greek_sender, _supplier_vat_ids),
            (
                Assert(
                    "GR-R-003",
                    "fatal",
                    "A Greek seller's VAT identifier (BT-31) shall be EL and a valid tax number.",
                    lambda e, d: (
                        xp.substring(xp.string_value(e), 1, 2) == "EL"
                        and greek_tin(xp.string_value(e)[2:])
                    ),
                ),
            ),
        ),
        Context(
            "a document from a seller in Greece",
            _when(lambda d: greek_sender(d) and _greek_address(d), lambda d: [d.root]),
            (
                Assert(
                    "GR-R-004-1",
                    "fatal",
                    "A Greek invoice shall carry exactly one MARK number document reference.",
                    lambda e, d: len(_references(d, MARK)) == 1,
                ),
                Assert(
                    "GR-S-008-1",
                    "warning",
                    "A Greek invoice should carry one invoice URL document reference.",
                    lambda e, d: len(_references(d, URL)) == 1,
                ),
                Assert(
                    "GR-R-008-2",
                    "fatal",
                    "A Greek invoice shall carry at most one invoice URL document reference.",
                    lambda e, d: len(_references(d, URL)) <= 1,
                ),
            ),
        ),
        Context(
            "the MARK number of a seller in Greece",
            _when(
                lambda d: greek_sender(d) and _greek_address(d),
                lambda d: [i for r in _any_references(d, MARK) for i in xp.kids(d, r, xp.Cbc.ID)],
            ),
            (
                Assert(
                    "GR-R-004-2",
                    "fatal",
                    "The MARK number shall be a positive integer.",
                    lambda e, d: "1" <= xp.string_value(e)[:1] <= "9",
                ),
            ),
        ),
        Context(
            "the invoice URL reference of a Greek seller",
            _when(greek_sender, lambda d: _any_references(d, URL)),
            (
                Assert(
                    "GR-R-008-3",
                    "fatal",
                    "The invoice URL document reference shall give the URI (BT-124).",
                    _url_given,
                ),
            ),
        ),
        Context(
            "the buyer of a Greek seller",
            _when(greek_sender, _parties("AccountingCustomerParty")),
            (
                Assert(
                    "GR-R-005",
                    "fatal",
                    "A Greek seller shall give the buyer's name (BT-44).",
                    _name_length,
                ),
            ),
        ),
        Context(
            "the electronic address of a Greek seller",
            _when(
                _greek_endpoint_country,
                lambda d: [
                    i
                    for p in _parties("AccountingSupplierParty")(d)
                    for i in xp.kids(d, p, xp.Cbc.EndpointID)
                ],
            ),
            (
                Assert(
                    "GR-R-009",
                    "fatal",
                    "A Greek seller's electronic address (BT-34) shall be its tax number in "
                    "scheme 9933.",
                    _tin_endpoint,
                ),
            ),
        ),
    ),
    when=lambda d: bool(greek_sender(d)) or _greek_endpoint_country(d),
)

GREECE_BOTH: Final = Pattern(
    (
        Context(
            "the Greek buyer of a Greek seller",
            _when(greek_both, _parties("AccountingCustomerParty")),
            (
                Assert(
                    "GR-R-006",
                    "fatal",
                    "A Greek buyer's VAT identifier (BT-48) shall be given: EL and a valid "
                    "tax number.",
                    _greek_vat,
                ),
            ),
        ),
        Context(
            "the electronic address of a Greek buyer",
            _when(
                greek_both,
                lambda d: [
                    i
                    for p in _parties("AccountingCustomerParty")(d)
                    for i in xp.kids(d, p, xp.Cbc.EndpointID)
                ],
            ),
            (
                Assert(
                    "GR-R-010",
                    "fatal",
                    "A Greek buyer's electronic address (BT-49) shall be its tax number in "
                    "scheme 9933.",
                    _tin_endpoint,
                ),
            ),
        ),
    ),
    when=lambda d: bool(greek_both(d)),
)
