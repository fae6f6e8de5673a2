"""UBL 2.1 XSD validation: the official schemas, hash-checked, compiled once."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway.config.settings import LimitSettings
from gateway.model import DocumentKind
from gateway.samples import sample_bytes
from gateway.validation import SchemaError, classify, parse_xml, validate, validate_schema, xsd
from gateway.validation.report import Finding
from tests.validation import docs

LIMITS = LimitSettings()
INVOICE = sample_bytes(DocumentKind.INVOICE)


def _schema_findings(data: bytes, schema_dir: Path | None = None) -> list[str]:
    root = parse_xml(data, LIMITS)
    return [f.message for f in validate_schema(root, classify(root), schema_dir=schema_dir)]


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_samples_are_schema_valid(kind: DocumentKind) -> None:
    """The shipped invoice and credit note samples are schema-valid and valid, with no findings."""
    report, root, facts = validate(sample_bytes(kind), LIMITS)
    assert report.schema_valid and report.valid
    assert report.kind is kind and root is not None and facts is not None
    assert report.findings == () and report.rejection is None


def test_three_megabyte_invoice_with_attachment_is_valid() -> None:
    """A 3 MB invoice with an embedded attachment validates, with its facts read."""
    data = docs.with_attachment(DocumentKind.INVOICE, 3_000_000)
    assert 2_900_000 < len(data) < 3_200_000
    report, _root, facts = validate(data, LIMITS)
    assert report.valid, report.findings
    assert facts is not None and facts.business_id == "ABQ-2026-0147"


def _xsd(findings: Sequence[Finding]) -> list[Finding]:
    """The schema stage's findings (the rule families add theirs after)."""
    return [f for f in findings if f.id == "UBL-XSD"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            b"<cbc:DueDate>2026-12-02</cbc:DueDate>",
            b"<cbc:DueDate>2026-12-02</cbc:DueDate><cbc:Colour>blue</cbc:Colour>",
            r"Colour': This element is not expected",
            id="unknown-element",
        ),
        pytest.param(
            b"<cbc:ID>ABQ-2026-0147</cbc:ID>\n  <cbc:IssueDate>2026-11-02</cbc:IssueDate>",
            b"<cbc:IssueDate>2026-11-02</cbc:IssueDate>\n  <cbc:ID>ABQ-2026-0147</cbc:ID>",
            r"IssueDate': This element is not expected",
            id="out-of-order",
        ),
        pytest.param(
            b"<cbc:IssueDate>2026-11-02</cbc:IssueDate>",
            b"<cbc:IssueDate>02/11/2026</cbc:IssueDate>",
            r"not a valid value of the atomic type 'xs:date'",
            id="bad-date",
        ),
        pytest.param(
            b'currencyID="EUR">82.40</cbc:TaxAmount>',
            b'currencyID="EUR">82,40</cbc:TaxAmount>',
            r"'82,40' is not a valid value",
            id="comma-decimal",
        ),
        pytest.param(
            b"<cbc:ID>ABQ-2026-0147</cbc:ID>\n",
            b"",
            r"Missing child element|not expected",
            id="missing-id",
        ),
    ],
)
def test_schema_errors_become_fatal_findings(old: bytes, new: bytes, expected: str) -> None:
    """Schema errors (unknown element, wrong order, bad date or decimal, missing id) become fatal
    UBL-XSD findings with a location; the document is rejected (422), not refused, and facts
    still read."""
    data = docs.replace_once(INVOICE, old, new)
    report, root, facts = validate(data, LIMITS)
    assert not report.schema_valid and not report.valid
    assert "UBL-XSD" in report.fatal_ids  # rules may add their own findings
    assert report.rejection is None  # parsed and recognised: a 422, not a 400
    assert root is not None and facts is not None  # the facts still name the parties
    xsd = _xsd(report.findings)
    finding = xsd[0]
    assert finding.flag == "fatal"
    assert finding.location.startswith("/") and ", line " in finding.location
    assert any(re.search(expected, f.message) for f in xsd)


def test_one_finding_per_error_with_its_location() -> None:
    """Each schema error gives one finding located at its element and line."""
    data = docs.replace_once(
        INVOICE,
        b"<cbc:IssueDate>2026-11-02</cbc:IssueDate>",
        b"<cbc:IssueDate>soon</cbc:IssueDate>",
    )
    data = docs.replace_once(data, b'unitCode="HUR">3<', b'unitCode="HUR">three<')
    report, _root, _facts = validate(data, LIMITS)
    locations = [f.location for f in _xsd(report.findings)]
    assert len(locations) == 2, report.findings
    assert locations[0].startswith("/*/cbc:IssueDate, line ")
    assert "cac:InvoiceLine[2]/cbc:InvoicedQuantity" in locations[1]


def test_manifest_lists_exactly_the_shipped_schemas() -> None:
    """The schema manifest lists exactly the 16 shipped XSD files, including both root schemas."""
    directory = xsd.default_schema_dir()
    shipped = {p.relative_to(directory).as_posix() for p in directory.rglob("*.xsd")}
    manifest = xsd.read_manifest()
    assert len(manifest) == 16
    assert set(manifest) == shipped
    assert set(xsd.ROOT_SCHEMAS.values()) <= set(manifest)


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    """A private copy of the installed schemas, as an admin's override would be."""
    copy = tmp_path / "ubl21"
    shutil.copytree(xsd.default_schema_dir(), copy)
    return copy


def test_an_override_directory_with_the_official_files_is_used(schema_copy: Path) -> None:
    """An override directory holding the official schemas is used and compiled once."""
    assert _schema_findings(INVOICE, schema_copy) == []
    assert schema_copy.resolve() in xsd._cache
    # compiled once per process and directory
    invoice = DocumentKind.INVOICE
    assert xsd._schema(schema_copy, invoice) is xsd._schema(schema_copy, invoice)


def test_an_override_directory_may_have_any_name(tmp_path: Path) -> None:
    """An override directory with spaces and non-ASCII characters in its name works."""
    # Imports are answered from the verified bytes by path: spaces and
    # non-ASCII characters in the directory must not break the lookup.
    odd = tmp_path / "schémas UBL 2.1"
    shutil.copytree(xsd.default_schema_dir(), odd)
    assert _schema_findings(sample_bytes(DocumentKind.CREDIT_NOTE), odd) == []


def test_a_tampered_schema_is_refused_naming_the_file(schema_copy: Path) -> None:
    """A schema file with one flipped bit is refused naming the file and its digest, as a server
    error rather than a verdict on the document."""
    target = schema_copy / "common" / "UBL-CommonBasicComponents-2.1.xsd"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    target.write_bytes(bytes(data))
    with pytest.raises(SchemaError, match=r"UBL-CommonBasicComponents-2\.1\.xsd has SHA-256"):
        _schema_findings(INVOICE, schema_copy)
    with pytest.raises(SchemaError):  # a server fault, not a verdict on the document
        validate(INVOICE, LIMITS, schema_dir=schema_copy)


def test_a_tampered_copy_that_still_compiles_is_refused(schema_copy: Path) -> None:
    """A schema loosened by an edit that still compiles is refused naming the file."""
    # A subtle edit that would widen what we accept: made optional, still valid XSD.
    target = schema_copy / "maindoc" / "UBL-Invoice-2.1.xsd"
    text = target.read_text("utf-8")
    loosened = text.replace('ref="cbc:ID" minOccurs="1"', 'ref="cbc:ID" minOccurs="0"', 1)
    assert loosened != text
    target.write_text(loosened, "utf-8")
    with pytest.raises(SchemaError, match=r"UBL-Invoice-2\.1\.xsd"):
        _schema_findings(INVOICE, schema_copy)


def test_a_missing_schema_is_refused_naming_the_file(schema_copy: Path) -> None:
    """A missing schema file is refused naming it."""
    (schema_copy / "common" / "UBL-XAdESv141-2.1.xsd").unlink()
    with pytest.raises(SchemaError, match=r"UBL-XAdESv141-2\.1\.xsd is missing"):
        _schema_findings(INVOICE, schema_copy)


def test_a_directory_without_schemas_is_refused(tmp_path: Path) -> None:
    """A schema directory without the schemas is refused as missing or unreadable."""
    with pytest.raises(SchemaError, match=r"is missing or unreadable"):
        _schema_findings(INVOICE, tmp_path)


def test_concurrent_validation_keeps_each_documents_errors() -> None:
    """Six threads validating good, bad and large documents at once each get their own document's
    verdict and errors."""
    good = INVOICE
    bad = docs.replace_once(
        INVOICE, b"<cbc:IssueDate>2026-11-02</cbc:IssueDate>", b"<cbc:IssueDate>x</cbc:IssueDate>"
    )
    big = docs.with_attachment(DocumentKind.INVOICE, 500_000)
    failures: list[str] = []

    def work(n: int) -> None:
        for i in range(15):
            data = (good, bad, big)[(n + i) % 3]
            report, _root, _facts = validate(data, LIMITS)
            xsd_errors = len(_xsd(report.findings))
            if report.valid != (data is not bad) or xsd_errors != (data is bad):
                failures.append(f"thread {n} round {i}: {report.findings}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
