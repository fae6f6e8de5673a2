"""The official engine (saxonche + the Schematron XSLTs) and `gateway validate --engine`.

The rules are the corpus's copy of the Peppol 2026.5 artefacts: where the
corpus is absent these tests skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.cli import main as cli
from gateway.validation import official
from gateway.validation.report import Finding, ValidationReport
from tests.support import CORPUS

RULES = CORPUS / "rules" / "peppol-bis3-2026.5" / "xslt"
LABELS = CORPUS / "labels.jsonl"
DYNAMIC_ERROR = "cases-split/en16931/test/Invoice-unit-UBL/BR-CL-23/t01.xml"
SAMPLES = sorted((Path(cli.__file__).parents[1] / "samples").glob("*.xml"))
# Families the native engine implements whatever state the tree is in; the
# Peppol and national families are checked by the conformance test.
NATIVE_DONE = re.compile(r"^(BR|UBL)-")


def _corpus_or_skip() -> None:
    if not (LABELS.is_file() and (RULES / "PEPPOL-EN16931-UBL.xslt").is_file()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"the labelled corpus and its rules are missing at {CORPUS}; CI needs them")
        pytest.skip(f"the labelled corpus and its rules are not at {CORPUS}")


def _labels() -> list[dict[str, Any]]:
    with open(LABELS, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _sample() -> list[dict[str, Any]]:
    """About 60 labelled documents: every other example, a spread of unit tests, BR-CL-23."""
    labels = _labels()
    examples = [lab for lab in labels if lab["kind"] == "example"][::2]
    units = [lab for lab in labels if lab["kind"] == "unit-test"]
    picked = units[::80] + [lab for lab in units if "/BR-CL-23/" in lab["path"]]
    return examples + picked


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


@pytest.fixture(scope="module")
def engine() -> official.OfficialEngine:
    _corpus_or_skip()
    return official.load(RULES)


def test_reproduces_the_official_labels(engine: official.OfficialEngine) -> None:
    """The official engine reproduces the labelled fatal and warning ids (and aborted stages) on
    about 60 corpus documents."""
    sample = _sample()
    assert len(sample) >= 55
    assert any(lab["path"] == DYNAMIC_ERROR for lab in sample)
    wrong = []
    for lab in sample:
        findings = engine.findings(_parse(CORPUS / lab["path"]))
        fatal = {f.id for f in findings if f.flag == "fatal" and f.id != official.ERROR_RULE}
        warning = {f.id for f in findings if f.flag == "warning"}
        stopped = any(f.id == official.ERROR_RULE for f in findings)
        if (fatal, warning, stopped) != (set(lab["fatal"]), set(lab["warning"]), "error" in lab):
            wrong.append(
                f"{lab['path']}: fatal {sorted(fatal ^ set(lab['fatal']))} "
                f"warning {sorted(warning ^ set(lab['warning']))} stopped {stopped}"
            )
    assert not wrong, "\n".join(wrong)


def test_findings_carry_svrl_text_and_location(engine: official.OfficialEngine) -> None:
    """Official findings carry the SVRL message and location, the same from bytes as from a
    parsed document."""
    path = CORPUS / "examples/en16931/test/testfiles/BIS_Billing_30-DataIT.xml"
    findings = engine.findings(path.read_bytes())  # bytes go through the hardened parser
    r049 = [f for f in findings if f.id == "PEPPOL-COMMON-R049"]
    assert r049 and all(f.flag == "fatal" for f in r049)
    assert r049[0].message.startswith("[PEPPOL-COMMON-R049]-Swedish organization number")
    assert r049[0].location.startswith("/*:Invoice[namespace-uri()=")
    assert findings == engine.findings(_parse(path))  # bytes or a parsed root: the same


def test_dynamic_error_is_a_fatal_finding_naming_the_stage(
    engine: official.OfficialEngine,
) -> None:
    """A stylesheet that aborts on a document gives one fatal finding naming the stage and the
    error, while the other stage's findings are still reported."""
    findings = engine.findings(_parse(CORPUS / DYNAMIC_ERROR))
    errors = [f for f in findings if f.id == official.ERROR_RULE]
    assert len(errors) == 1
    assert errors[0].flag == "fatal"
    assert errors[0].message.startswith("peppol stage aborted (PEPPOL-EN16931-UBL.xslt)")
    assert "xs:decimal" in errors[0].message
    assert "BR-CO-04" in {f.id for f in findings}  # the CEN stage still reported


def test_compiled_once_per_directory(engine: official.OfficialEngine) -> None:
    """The official rules are compiled once per directory, however its path is spelt."""
    assert official.load(str(RULES)) is engine
    assert official.load(RULES / ".." / "xslt") is engine


def test_disagreements_compare_ids_and_flags() -> None:
    """Disagreements between engines list rule ids whose flag differs, on each side; identical
    reports have none."""

    def report(*findings: Finding) -> ValidationReport:
        return ValidationReport(kind=None, schema_valid=True, findings=findings)

    native = report(Finding("BR-01", "fatal", ""), Finding("BR-02", "fatal", ""))
    theirs = report(Finding("BR-01", "fatal", "other text", "/x"), Finding("BR-02", "warning", ""))
    assert official.disagreements(native, theirs) == {
        "only_native": ["BR-02"],
        "only_official": ["BR-02"],
    }
    assert official.disagreements(native, native) == {"only_native": [], "only_official": []}


# --- the command ----------------------------------------------------------------


def _validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_both_engines_agree_on_samples_and_examples(
    engine: official.OfficialEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    """`validate --engine both` on the samples and official examples reports no disagreement in
    the BR and UBL rule families, and the samples are valid with nothing only official (other
    families may differ here)."""
    examples = [
        CORPUS / "examples/peppol-bis3/rules/examples/base-example.xml",
        CORPUS / "examples/peppol-bis3/rules/examples/base-creditnote-correction.xml",
        CORPUS / "examples/peppol-bis3/rules/examples/Allowance-example.xml",
        CORPUS / "examples/en16931/ubl/examples/ubl-tc434-example1.xml",
        CORPUS / "examples/en16931/ubl/examples/ubl-tc434-example5.xml",
        CORPUS / "examples/en16931/test/testfiles/BIS_Billing_30-DataIT.xml",
    ]
    files = [str(p) for p in [*SAMPLES, *examples]]
    assert len(SAMPLES) == 2
    code, out, _ = _validate(
        capsys, "--engine", "both", "--official-dir", str(RULES), "--json", *files
    )
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == files
    for line in lines:
        differ = line["disagreements"]
        assert set(differ) == {"only_native", "only_official"}
        ours = [i for ids in differ.values() for i in ids if NATIVE_DONE.search(i)]
        assert not ours, f"{line['file']}: {differ}"
    samples = [line for line in lines if line["file"] in {str(p) for p in SAMPLES}]
    assert all(s["valid"] and s["disagreements"]["only_official"] == [] for s in samples)
    assert code in (0, 1)


def test_both_reports_a_disagreement_and_exits_1(
    engine: official.OfficialEngine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`validate --engine both` exits 1 and names a rule only one engine found, in text and JSON,
    even when the verdict stays valid."""
    import gateway.validation.rules as rules

    real = rules.native_findings

    def planted(root: etree._Element, kind: Any) -> list[Finding]:
        return [*real(root, kind), Finding("BR-99", "warning", "planted")]

    monkeypatch.setattr(rules, "native_findings", planted)
    sample = str(SAMPLES[0])
    code, out, _ = _validate(capsys, "--engine", "both", "--official-dir", str(RULES), sample)
    assert code == 1
    assert "DISAGREEMENT only native: BR-99" in out
    code, out, _ = _validate(
        capsys, "--engine", "both", "--official-dir", str(RULES), "--json", sample
    )
    assert code == 1
    line = json.loads(out)
    assert line["valid"] is True  # a warning: the verdict stands, the engines still differ
    assert "BR-99" in line["disagreements"]["only_native"]


def test_official_engine_alone_from_the_environment(
    engine: official.OfficialEngine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`validate --engine official` takes the rules from the environment variable, reports an
    aborted stage as invalid and the samples as valid, without disagreements."""
    monkeypatch.setenv(official.ENV_VAR, str(RULES))
    code, out, _ = _validate(
        capsys, "--engine", "official", "--json", str(CORPUS / DYNAMIC_ERROR), *map(str, SAMPLES)
    )
    assert code == 1
    first, *samples = [json.loads(line) for line in out.splitlines()]
    assert first["valid"] is False and official.ERROR_RULE in first["fatal"]
    assert "disagreements" not in first
    assert all(s["valid"] for s in samples)


def test_missing_directory_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate --engine official` or both without a rules directory, with a missing one, or one
    lacking a stylesheet exits 2 saying which, printing nothing."""
    monkeypatch.delenv(official.ENV_VAR, raising=False)
    sample = str(SAMPLES[0])
    code, out, err = _validate(capsys, "--engine", "official", sample)
    assert (code, out) == (2, "")
    assert "--official-dir" in err and official.ENV_VAR in err

    missing = tmp_path / "nowhere"
    code, out, err = _validate(capsys, "--engine", "both", "--official-dir", str(missing), sample)
    assert (code, out) == (2, "")
    assert f"{missing} does not exist" in err

    (tmp_path / "CEN-EN16931-UBL.xslt").write_text("<x/>")
    code, out, err = _validate(capsys, "--engine", "both", "--official-dir", str(tmp_path), sample)
    assert (code, out) == (2, "")
    assert "lacks PEPPOL-EN16931-UBL.xslt" in err


def test_missing_saxonche_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`validate --engine official` without saxonche installed exits 2 saying so."""
    for _, file in official.STAGES:
        (tmp_path / file).write_text("<x/>")
    monkeypatch.setattr(official, "_saxon_instance", None)
    monkeypatch.setitem(sys.modules, "saxonche", None)  # import saxonche raises ImportError
    code, out, err = _validate(
        capsys, "--engine", "official", "--official-dir", str(tmp_path), str(SAMPLES[0])
    )
    assert (code, out) == (2, "")
    assert "saxonche" in err and "not installed" in err


def test_broken_stylesheet_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`validate --engine official` with a stylesheet that does not compile exits 2 naming it."""
    pytest.importorskip("saxonche")
    for _, file in official.STAGES:
        (tmp_path / file).write_text("<not-a-stylesheet/>")
    code, out, err = _validate(
        capsys, "--engine", "official", "--official-dir", str(tmp_path), str(SAMPLES[0])
    )
    assert (code, out) == (2, "")
    assert "cannot compile" in err and "CEN-EN16931-UBL.xslt" in err


def test_native_stays_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """`gateway validate` without --engine uses only the native engine: no disagreements field."""
    code, out, _ = _validate(capsys, "--json", str(SAMPLES[0]))
    assert code == 0
    assert "disagreements" not in json.loads(out)
