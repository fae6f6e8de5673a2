"""What validation found: findings and the report every stage adds to.

A finding has the shape of a Schematron SVRL assertion (rule id, flag,
message, location), so the XSD stage here and the EN 16931 / Peppol rule
stages that come later produce the same thing, and a report is just the
findings of all stages so far.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.errors import HostileXml, InputError, NotXml, PayloadTooLarge, UnknownDocument
from gateway.model import DocumentKind
from gateway.validation.release import rules_json

Flag = Literal["fatal", "warning"]
FATAL: Flag = "fatal"  # rejects the document
WARNING: Flag = "warning"  # informs; the document goes on

# Rule ids of the first stage. The later stages use the official ids
# (BR-CO-16, PEPPOL-EN16931-R001, ...).
XSD_RULE = "UBL-XSD"
MALFORMED_RULE = "XML-MALFORMED"
HOSTILE_RULE = "XML-HOSTILE"
TOO_LARGE_RULE = "XML-TOO-LARGE"
ROOT_RULE = "UBL-ROOT"

_REFUSAL_RULES: tuple[tuple[type[InputError], str], ...] = (
    (PayloadTooLarge, TOO_LARGE_RULE),
    (HostileXml, HOSTILE_RULE),
    (UnknownDocument, ROOT_RULE),
    (NotXml, MALFORMED_RULE),
)


@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # rule id, e.g. "UBL-XSD" or "BR-CO-16"
    flag: Flag
    message: str
    location: str = ""  # "line 3, column 7", or an XPath-like path with the line

    def __post_init__(self) -> None:
        if self.flag not in (FATAL, WARNING):
            raise ValueError(f"flag must be 'fatal' or 'warning', not {self.flag!r}")

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "flag": self.flag,
            "message": self.message,
            "location": self.location,
        }


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one document.

    ``kind`` is None when the input is not a UBL Invoice or CreditNote at all.
    ``rejection`` keeps the ``InputError`` behind a refused input (not XML,
    hostile, too large, unknown root) so the API can answer with that
    exception's HTTP status; it is None once the document was parsed and
    recognised, whatever the findings.
    """

    kind: DocumentKind | None
    schema_valid: bool
    findings: tuple[Finding, ...] = ()
    rejection: InputError | None = field(default=None, compare=False, repr=False)

    @classmethod
    def refused(cls, error: InputError) -> ValidationReport:
        """The report for input the parser or the root check refused."""
        rule = next((r for t, r in _REFUSAL_RULES if isinstance(error, t)), MALFORMED_RULE)
        line, column = error.details.get("line"), error.details.get("column")
        location = f"line {line}, column {column}" if line is not None else ""
        return cls(
            kind=None,
            schema_valid=False,
            findings=(Finding(rule, FATAL, error.message, location),),
            rejection=error,
        )

    @property
    def valid(self) -> bool:
        return self.schema_valid and not any(f.flag == FATAL for f in self.findings)

    @property
    def fatal_ids(self) -> list[str]:
        return sorted({f.id for f in self.findings if f.flag == FATAL})

    @property
    def warning_ids(self) -> list[str]:
        return sorted({f.id for f in self.findings if f.flag == WARNING})

    def with_findings(self, more: Iterable[Finding]) -> ValidationReport:
        """This report with a later stage's findings added (reports are immutable)."""
        return dataclasses.replace(self, findings=(*self.findings, *more))

    def to_json(self, file: str | None = None) -> dict[str, Any]:
        return {
            "file": file,
            "valid": self.valid,
            "schema_valid": self.schema_valid,
            "fatal": self.fatal_ids,
            "warnings": self.warning_ids,
            "errors": [f.to_json() for f in self.findings],
            # The official rules whose verdicts these are.
            "rules": rules_json(),
        }
