"""Validation of business documents: the first stage of every pipeline.

Stage one, here: safe, well-formed XML (:func:`parse_xml`), a UBL 2.1
Invoice or CreditNote root (:func:`classify`), UBL 2.1 XSD
(:func:`validate_schema`) and the routing facts (:func:`extract_facts`).
EN 16931 and Peppol BIS rules come next and add their findings to the same
:class:`ValidationReport` (``report.with_findings``).

:func:`validate` runs the whole stage and never raises for a bad document;
the pieces raise ``InputError`` subclasses for callers that want the
exception (its ``http_status``: 400 not XML / hostile / unknown root, 413 too
large). A refused input's exception is also kept as ``report.rejection``.

The rules are those of Peppol BIS Billing 3.0 release ``RULES_RELEASE`` with
the CEN EN 16931 rules of ``CEN_RELEASE`` (``release``); every report's JSON
names them.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from gateway.config.settings import LimitSettings
from gateway.errors import InputError
from gateway.model import DocumentKind
from gateway.validation.facts import DocumentFacts, extract_facts
from gateway.validation.parse import classify, parse_xml
from gateway.validation.release import CEN_RELEASE, RULES_RELEASE
from gateway.validation.report import Finding, ValidationReport
from gateway.validation.rules import native_findings
from gateway.validation.xsd import SchemaError, load_schemas, validate_schema

__all__ = [
    "CEN_RELEASE",
    "RULES_RELEASE",
    "DocumentFacts",
    "Finding",
    "SchemaError",
    "ValidationReport",
    "check_parsed",
    "classify",
    "extract_facts",
    "load_schemas",
    "parse_xml",
    "validate",
    "validate_schema",
]


def validate(
    data: bytes, limits: LimitSettings, *, schema_dir: Path | None = None
) -> tuple[ValidationReport, etree._Element | None, DocumentFacts | None]:
    """Parse, recognise and schema-validate one document.

    Returns the report, the parsed root (None when the bytes were refused)
    and the facts (None unless the root is a UBL Invoice or CreditNote).
    Facts are read even from a schema-invalid document, so a rejection can
    still name its sender. Only a server fault raises (``SchemaError``: the
    schemas are missing or altered).
    """
    try:
        root = parse_xml(data, limits)
    except InputError as exc:
        return ValidationReport.refused(exc), None, None
    try:
        kind = classify(root)
    except InputError as exc:  # well-formed, but not an invoice or credit note
        return ValidationReport.refused(exc), root, None
    return check_parsed(root, kind, schema_dir=schema_dir), root, extract_facts(root)


def check_parsed(
    root: etree._Element, kind: DocumentKind, *, schema_dir: Path | None = None
) -> ValidationReport:
    """UBL 2.1 XSD, then the EN 16931 and Peppol rules, on a parsed document.

    As the official artefacts do, the rules run even when the schema fails,
    so the report lists everything that is wrong at once.
    """
    schema = validate_schema(root, kind, schema_dir=schema_dir)
    rules = native_findings(root, kind)
    return ValidationReport(kind=kind, schema_valid=not schema, findings=(*schema, *rules))
