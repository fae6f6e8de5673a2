"""ValidationReport: the verdict and its JSON shape, shared by the CLI and the API."""

from __future__ import annotations

import json

import pytest

from gateway.config.settings import LimitSettings
from gateway.errors import HostileXml, InputError, NotXml, PayloadTooLarge, UnknownDocument
from gateway.model import DocumentKind
from gateway.samples import sample_bytes
from gateway.validation import CEN_RELEASE, RULES_RELEASE, Finding, ValidationReport, validate
from gateway.validation.report import FATAL, WARNING

XSD = Finding("UBL-XSD", FATAL, "Element 'x': not expected.", "/*/x, line 3")


def test_json_shape_is_exact() -> None:
    """A report's JSON has exactly file, valid, schema_valid, sorted unique fatal ids, warnings
    and every finding with id, flag, message and location."""
    report = ValidationReport(
        kind=DocumentKind.INVOICE,
        schema_valid=True,
        findings=(
            Finding("PEPPOL-COMMON-R040", FATAL, "GLN must have a valid check digit", "/a"),
            Finding("BR-CO-16", FATAL, "Amount due...", "/b"),
            Finding("PEPPOL-COMMON-R040", FATAL, "GLN must have a valid check digit", "/c"),
            Finding("UBL-CR-679", WARNING, "may not include ...", "/d"),
        ),
    )
    out = report.to_json("inv.xml")
    assert list(out) == ["file", "valid", "schema_valid", "fatal", "warnings", "errors", "rules"]
    assert out["file"] == "inv.xml"
    assert out["valid"] is False and out["schema_valid"] is True
    assert out["fatal"] == ["BR-CO-16", "PEPPOL-COMMON-R040"]  # sorted, unique
    assert out["warnings"] == ["UBL-CR-679"]
    assert len(out["errors"]) == 4
    assert out["errors"][0] == {
        "id": "PEPPOL-COMMON-R040",
        "flag": "fatal",
        "message": "GLN must have a valid check digit",
        "location": "/a",
    }
    json.dumps(out)  # serialisable as is
    assert ValidationReport(None, False).to_json()["file"] is None


def test_every_report_names_the_rules_release_it_was_checked_against() -> None:
    """A reader of any report, valid or refused, can tell which official rules gave it."""
    valid, _, _ = validate(sample_bytes(DocumentKind.INVOICE), LimitSettings())
    refused, _, _ = validate(b"not xml", LimitSettings())
    assert valid.valid and refused.rejection is not None
    for report in (valid, refused):
        rules = json.loads(json.dumps(report.to_json("x.xml")))["rules"]
        assert rules == {
            "name": "Peppol BIS Billing 3.0",
            "release": "2026.5",
            "cen_release": "1.3.16",
        }
    assert (RULES_RELEASE, CEN_RELEASE) == ("2026.5", "1.3.16")


def test_valid_means_schema_valid_and_no_fatal() -> None:
    """A report is valid only when schema-valid without fatal findings; warnings keep it valid,
    and adding findings returns a new report."""
    clean = ValidationReport(DocumentKind.INVOICE, True)
    assert clean.valid and clean.fatal_ids == [] and clean.warning_ids == []
    warned = clean.with_findings([Finding("UBL-CR-679", WARNING, "m", "")])
    assert warned.valid and warned.warning_ids == ["UBL-CR-679"]
    failed = warned.with_findings([Finding("BR-01", FATAL, "m", "")])
    assert not failed.valid and failed.fatal_ids == ["BR-01"]
    assert clean.findings == ()  # reports are immutable: with_findings copies
    assert not ValidationReport(DocumentKind.INVOICE, False).valid


def test_flags_are_fatal_or_warning() -> None:
    """A finding flagged other than fatal or warning is refused."""
    with pytest.raises(ValueError, match="flag"):
        Finding("X", "error", "m", "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "rule"),
    [
        (NotXml("not well-formed XML at line 2, column 5: x", line=2, column=5), "XML-MALFORMED"),
        (HostileXml("DOCTYPE declarations are refused"), "XML-HOSTILE"),
        (PayloadTooLarge("document is 11 bytes; the limit is 10 bytes"), "XML-TOO-LARGE"),
        (UnknownDocument("root element 'Order' ..."), "UBL-ROOT"),
    ],
)
def test_refusals_become_one_fatal_finding(error: InputError, rule: str) -> None:
    """A refused document (malformed, hostile, too large, unknown root) becomes an invalid report
    with one fatal finding carrying the refusal's message."""
    report = ValidationReport.refused(error)
    assert report.kind is None and not report.schema_valid and not report.valid
    assert report.fatal_ids == [rule]
    assert report.findings[0].message == error.message
    assert report.rejection is error


@pytest.mark.parametrize(
    ("data", "limits", "rule", "status", "location"),
    [
        (b"<r><a></r>", LimitSettings(), "XML-MALFORMED", 400, "line 1, column 11"),
        (b"<!DOCTYPE r><r/>", LimitSettings(), "XML-HOSTILE", 400, ""),
        (b"<r/>" * 10, LimitSettings(max_document_bytes=20), "XML-TOO-LARGE", 413, ""),
        (b"<Order/>", LimitSettings(), "UBL-ROOT", 400, ""),
    ],
)
def test_validate_reports_refusals_with_the_exception_for_http(
    data: bytes, limits: LimitSettings, rule: str, status: int, location: str
) -> None:
    """Validating a refused document reports one fatal finding with its location and keeps the
    refusal, whose HTTP status is 400 or 413."""
    report, _root, facts = validate(data, limits)
    assert facts is None
    assert report.fatal_ids == [rule]
    assert report.findings[0].location == location
    assert report.rejection is not None and report.rejection.http_status == status
