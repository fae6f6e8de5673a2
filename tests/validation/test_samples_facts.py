"""The shipped samples, sample_document's substitutions, and the routing facts."""

from __future__ import annotations

import re
from datetime import date

import pytest
from lxml import etree

from gateway.config.settings import LimitSettings
from gateway.errors import UnknownDocument
from gateway.model import (
    BIS3_CUSTOMIZATION,
    BIS3_PROCESS,
    DocumentKind,
    ParticipantId,
    document_type_id,
)
from gateway.samples import sample_bytes, sample_document
from gateway.validation import extract_facts, parse_xml, validate
from gateway.validation.facts import NAMESPACES
from tests.validation import docs

LIMITS = LimitSettings()
SELLER = ParticipantId("0088", "3791045278369")
BUYER = ParticipantId("0088", "3792077184529")


def _gln_ok(value: str) -> bool:
    """GS1 check digit: weights 3,1,3,... from the right, excluding the check digit."""
    digits = [int(c) for c in value]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return len(value) == 13 and (10 - total % 10) % 10 == digits[-1]


def _facts(data: bytes):  # type: ignore[no-untyped-def]
    return extract_facts(parse_xml(data, LIMITS))


@pytest.mark.parametrize(
    ("kind", "business_id", "issued"),
    [
        (DocumentKind.INVOICE, "ABQ-2026-0147", date(2026, 11, 2)),
        (DocumentKind.CREDIT_NOTE, "ABQ-AV-2026-0031", date(2026, 11, 9)),
    ],
)
def test_facts_of_the_samples(kind: DocumentKind, business_id: str, issued: date) -> None:
    """The shipped samples' facts give kind, customization, process, number, date, currency,
    parties, buyer country and document type, without problems, routable."""
    facts = _facts(sample_bytes(kind))
    assert facts.kind is kind
    assert facts.customization_id == BIS3_CUSTOMIZATION
    assert facts.profile_id == facts.process == BIS3_PROCESS
    assert facts.business_id == business_id
    assert facts.issue_date == issued
    assert facts.currency == "EUR"
    assert facts.seller == SELLER and facts.buyer == BUYER
    assert facts.buyer_country == "FR"
    assert facts.document_type == document_type_id(kind, BIS3_CUSTOMIZATION)
    assert facts.problems == () and facts.routable


def test_sample_endpoints_are_glns_with_valid_check_digits() -> None:
    """The samples' seller and buyer endpoints are GLNs with valid check digits."""
    assert _gln_ok(SELLER.value) and _gln_ok(BUYER.value)
    assert not _gln_ok("3791045278360")


@pytest.mark.parametrize("kind", list(DocumentKind))
@pytest.mark.parametrize(
    "buyer",
    [
        "0088:3793000000022",
        "0009:81427365200010",  # FR SIRET
        "0002:529381741",  # FR SIREN
        "0208:0481516215",  # BE enterprise number
        "0225:529381741_finance",  # FR e-invoicing address
        "9925:be0481516215",
    ],
)
def test_sample_document_substitutes_and_stays_valid(kind: DocumentKind, buyer: str) -> None:
    """sample_document puts in any seller, buyer scheme and number, and the document stays valid
    with nothing else changed."""
    seller = ParticipantId.parse("0088:3793000000015")
    data = sample_document(
        kind, seller=seller, buyer=ParticipantId.parse(buyer), business_id="T-42/7"
    )
    report, root, facts = validate(data, LIMITS)
    assert report.valid, report.findings
    assert facts is not None and root is not None
    assert facts.seller == seller
    assert str(facts.buyer) == buyer
    assert facts.business_id == "T-42/7"
    endpoint = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NAMESPACES)
    assert endpoint is not None and endpoint.get("schemeID") == buyer[:4]
    # nothing else changed
    assert facts.currency == "EUR" and facts.buyer_country == "FR"


def test_sample_document_keeps_the_business_id_unless_asked() -> None:
    """sample_document keeps the sample's number unless one is given, with a UTF-8 declaration."""
    data = sample_document(DocumentKind.CREDIT_NOTE, seller=SELLER, buyer=BUYER)
    assert _facts(data).business_id == "ABQ-AV-2026-0031"
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_sample_document_refuses_an_empty_business_id() -> None:
    """sample_document refuses a blank business id."""
    with pytest.raises(ValueError, match="business_id"):
        sample_document(DocumentKind.INVOICE, seller=SELLER, buyer=BUYER, business_id=" ")


SELLER_ENDPOINT = b'<cbc:EndpointID schemeID="0088">3791045278369</cbc:EndpointID>'
BUYER_ENDPOINT = b'<cbc:EndpointID schemeID="0088">3792077184529</cbc:EndpointID>'


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (BUYER_ENDPOINT, b"", r"buyer's electronic address .* is missing"),
        (
            BUYER_ENDPOINT,
            b"<cbc:EndpointID>3792077184529</cbc:EndpointID>",
            r"buyer's .* has no schemeID",
        ),
        (
            BUYER_ENDPOINT,
            b'<cbc:EndpointID schemeID="0088">  </cbc:EndpointID>',
            r"buyer's .* has no value",
        ),
        (
            BUYER_ENDPOINT,
            b'<cbc:EndpointID schemeID="EM">buyer@example.com</cbc:EndpointID>',
            r"buyer's .* unusable: 'EM:buyer@example.com' is not an ISO 6523",
        ),
        (
            SELLER_ENDPOINT,
            b'<cbc:EndpointID schemeID="0088">12 34</cbc:EndpointID>',
            r"seller's .* unusable: .*whitespace",
        ),
    ],
)
def test_unusable_endpoints_give_none_and_say_why(old: bytes, new: bytes, problem: str) -> None:
    """A missing, schemeless, empty or unusable endpoint leaves that party unknown, the document
    unroutable, with one problem saying why."""
    facts = _facts(docs.replace_once(sample_bytes(DocumentKind.INVOICE), old, new))
    buyer_broken = old == BUYER_ENDPOINT
    assert (facts.buyer is None) == buyer_broken
    assert (facts.seller is None) != buyer_broken
    assert not facts.routable
    assert len(facts.problems) == 1
    assert re.search(problem, facts.problems[0]), facts.problems


def test_endpoint_value_is_trimmed_and_case_folded() -> None:
    """An endpoint's scheme and value are trimmed and the value lower-cased."""
    data = docs.replace_once(
        sample_bytes(DocumentKind.INVOICE),
        BUYER_ENDPOINT,
        b'<cbc:EndpointID schemeID=" 9925 ">\n  BE0481516215 </cbc:EndpointID>',
    )
    assert _facts(data).buyer == ParticipantId("9925", "be0481516215")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"2026-11-02Z", date(2026, 11, 2)),
        (b"2026-11-02+01:00", date(2026, 11, 2)),
        (b"2026-02-30", None),
        (b"02/11/2026", None),
        (b"", None),
    ],
)
def test_issue_date(text: bytes, expected: date | None) -> None:
    """The issue date is read with or without a zone; impossible, foreign-format or empty dates
    give none."""
    data = docs.replace_once(
        sample_bytes(DocumentKind.INVOICE),
        b"<cbc:IssueDate>2026-11-02</cbc:IssueDate>",
        b"<cbc:IssueDate>" + text + b"</cbc:IssueDate>",
    )
    assert _facts(data).issue_date == expected


def test_a_thin_document_gives_empty_facts() -> None:
    """An empty Invoice gives empty facts, no parties and two problems."""
    root = etree.fromstring(
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    )
    facts = extract_facts(root)
    assert facts.kind is DocumentKind.INVOICE
    assert facts.customization_id == facts.business_id == facts.currency == ""
    assert facts.document_type == "" and facts.issue_date is None
    assert facts.seller is None and facts.buyer is None and len(facts.problems) == 2


def test_facts_need_a_ubl_root() -> None:
    """Facts of a document without a UBL root are refused as an unknown document."""
    with pytest.raises(UnknownDocument):
        extract_facts(etree.fromstring(b"<Invoice/>"))
