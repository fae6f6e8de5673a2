"""The pure comparison of an envelope's values with its document's facts."""

from __future__ import annotations

import dataclasses

from lxml import etree

from gateway.model import BIS3_DOCUMENT_TYPES, BIS3_PROCESS, ParticipantId
from gateway.validation.envelope import envelope_mismatches, refusal
from gateway.validation.facts import DocumentFacts, extract_facts
from tests.conftest import BUYER, SELLER, invoice


def _facts(**changes: object) -> DocumentFacts:
    facts = extract_facts(etree.fromstring(invoice()))
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def _compare(facts: DocumentFacts, **envelope: str) -> list[str]:
    values = {
        "sender": str(SELLER),
        "receiver": str(BUYER),
        "document_type": BIS3_DOCUMENT_TYPES[0],
        "process": BIS3_PROCESS,
        **envelope,
    }
    return [m.field for m in envelope_mismatches(facts=facts, **values)]


def test_a_true_envelope_has_no_mismatch() -> None:
    """An envelope that describes its document truly has no mismatch."""
    assert _compare(_facts()) == []


def test_participant_values_compare_without_case_and_schemes_exactly() -> None:
    """Envelope and document participant values match regardless of case and scheme prefix, but a
    different ICD is a receiver mismatch."""
    facts = _facts(buyer=ParticipantId.parse("0192:AbC123"))
    assert _compare(facts, receiver="0192:abc123") == []
    assert _compare(facts, receiver="iso6523-actorid-upis::0192:ABC123") == []
    assert _compare(facts, receiver="0208:abc123") == [
        "SBDH Receiver vs buyer EndpointID (BR-SBDH-1)"
    ]


def test_document_type_and_process_compare_exactly() -> None:
    """Document type and process ids differing only in case are both mismatches."""
    upper = BIS3_DOCUMENT_TYPES[0].replace("billing:3.0", "BILLING:3.0")
    assert len(_compare(_facts(), document_type=upper, process=BIS3_PROCESS.upper())) == 2


def test_a_document_without_parties_or_ids_mismatches_every_field() -> None:
    """A document without parties, type or process mismatches all four envelope fields, and the
    refusal is EBMS:0004 / 400 quoting the values, with "(none)" for the missing ones."""
    facts = _facts(seller=None, buyer=None, document_type="", process="")
    found = envelope_mismatches(
        sender=str(SELLER),
        receiver="not an id",
        document_type=BIS3_DOCUMENT_TYPES[0],
        process=BIS3_PROCESS,
        facts=facts,
    )
    assert len(found) == 4
    error = refusal(found)
    assert error.ebms_code == "EBMS:0004" and error.http_status == 400
    assert "'not an id'" in error.message and "'(none)'" in error.message
