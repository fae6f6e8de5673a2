"""Our schema verdict agrees with the reference labels on the shared corpus.

The corpus (../shared/einvoice-corpus, beside the repository) holds 1,749
UBL documents, each labelled by a reference run of the OASIS UBL 2.1 XSD.
Nothing from it is copied here. Without it the test is skipped, except in CI
(CI=true), where a missing corpus must fail rather than pass silently.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from gateway.config.settings import LimitSettings
from gateway.validation import validate

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "einvoice-corpus"
LABELS = CORPUS / "labels.jsonl"
EXPECTED_DOCUMENTS = 1749


def _labels() -> list[dict[str, object]]:
    if not LABELS.is_file():
        message = f"the einvoice corpus is not at {CORPUS} (labels.jsonl missing)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the corpus test")
        pytest.skip(message)
    lines = LABELS.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_schema_verdicts_match_the_labels() -> None:
    """Our UBL schema verdict and root element agree with the reference labels on all 1,749
    corpus documents."""
    labels = _labels()
    assert len(labels) == EXPECTED_DOCUMENTS
    limits = LimitSettings()
    disagreements = []
    for label in labels:
        path = str(label["path"])
        report, _root, _facts = validate((CORPUS / path).read_bytes(), limits)
        if report.schema_valid != label["schema_valid"]:
            disagreements.append(
                f"{path}: ours {report.schema_valid}, label {label['schema_valid']}; "
                f"{[f.message for f in report.findings][:2]}"
            )
        elif report.kind is not None and report.kind.value != label["root"]:
            disagreements.append(f"{path}: root {report.kind.value}, label {label['root']}")
    assert disagreements == [], "\n".join(disagreements)


def test_error_counts_match_where_invalid() -> None:
    """On each schema-invalid corpus document we report as many UBL-XSD findings as the reference
    run found errors."""
    # One finding per XSD error: the same count as the reference run.
    labels = [label for label in _labels() if not label["schema_valid"]]
    limits = LimitSettings()
    wrong = []
    for label in labels:
        report, _root, _facts = validate((CORPUS / str(label["path"])).read_bytes(), limits)
        xsd = [f for f in report.findings if f.id == "UBL-XSD"]
        if len(xsd) != label["schema_error_count"]:
            wrong.append(f"{label['path']}: {len(xsd)} vs {label['schema_error_count']}")
    assert wrong == [], "\n".join(wrong)


def test_a_missing_corpus_skips_locally_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the corpus the corpus tests skip locally but fail when CI=true."""
    monkeypatch.setattr(sys.modules[__name__], "LABELS", tmp_path / "none")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="einvoice corpus is not at"):
        _labels()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the corpus test"):
        _labels()
