"""The checks every incoming document goes through, whoever sent it.

Raises the InputError family for what is not a safe UBL 2.1 Invoice or
CreditNote at all (the API answers 400/413/415 and stores nothing). Returns
a ``Checked`` for everything else, with the problems that make the gateway
reject it (schema errors, rules, a missing recipient).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import LimitSettings
from gateway.validation import check_parsed
from gateway.validation.facts import DocumentFacts, extract_facts
from gateway.validation.parse import classify, parse_xml
from gateway.validation.report import Finding, ValidationReport


@dataclass(frozen=True)
class Checked:
    report: ValidationReport
    facts: DocumentFacts

    def problems(self) -> list[dict[str, Any]]:
        """Every fatal finding, plus routing prerequisites the rules do not cover."""
        out = [_finding_json(f) for f in self.report.findings if f.flag == "fatal"]
        if self.facts.buyer is None:
            out.append(
                {
                    "id": "GW-RECIPIENT",
                    "flag": "fatal",
                    "message": "the buyer has no usable electronic address "
                    "(cac:AccountingCustomerParty/cac:Party/cbc:EndpointID with a schemeID)",
                    "location": "/*/cac:AccountingCustomerParty/cac:Party/cbc:EndpointID",
                }
            )
        if self.facts.seller is None:
            out.append(
                {
                    "id": "GW-SENDER",
                    "flag": "fatal",
                    "message": "the seller has no usable electronic address "
                    "(cac:AccountingSupplierParty/cac:Party/cbc:EndpointID with a schemeID)",
                    "location": "/*/cac:AccountingSupplierParty/cac:Party/cbc:EndpointID",
                }
            )
        return out


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"id": f.id, "flag": f.flag, "message": f.message, "location": f.location}


def check_document(
    body: bytes, limits: LimitSettings, *, schema_dir: Path | None = None
) -> Checked:
    root = parse_xml(body, limits)
    kind = classify(root)
    return Checked(check_parsed(root, kind, schema_dir=schema_dir), extract_facts(root))
