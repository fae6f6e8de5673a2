"""The checks every incoming document goes through, whoever sent it.

Raises the InputError family for what is not a safe UBL 2.1 Invoice or
CreditNote at all (the API answers 400/413/415 and stores nothing). Returns
a ``Checked`` for everything else, with the problems that make the gateway
reject it (schema errors, rules, a missing recipient).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import LimitSettings
from gateway.validation import check_parsed
from gateway.validation.encoding import require_utf8
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
    require_utf8(body)  # what cannot be sent as it is is refused before anything else
    root = parse_xml(body, limits)
    kind = classify(root)
    return Checked(check_parsed(root, kind, schema_dir=schema_dir), extract_facts(root))


class Checker:
    """Runs ``check_document`` in this process, or in a pool of processes.

    Validation is pure CPU work under the GIL: with ``processes`` > 0 it
    runs beside the event loop on the other cores, and the process that owns
    the sockets and the store keeps serving. The pool's processes load the
    schemas and rules once, at start.
    """

    def __init__(self, processes: int = 0, *, schema_dir: Path | None = None) -> None:
        self._schema_dir = schema_dir
        self._pool: ProcessPoolExecutor | None = None
        if processes > 0:
            self._pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm,
                initargs=(schema_dir,),
            )

    async def check(self, body: bytes, limits: LimitSettings) -> Checked:
        if self._pool is None:
            return check_document(body, limits, schema_dir=self._schema_dir)
        loop = asyncio.get_running_loop()
        call = functools.partial(check_document, body, limits, schema_dir=self._schema_dir)
        return await loop.run_in_executor(self._pool, call)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _warm(schema_dir: Path | None) -> None:
    from gateway.model import DocumentKind
    from gateway.samples import sample_bytes

    check_document(sample_bytes(DocumentKind.INVOICE), LimitSettings(), schema_dir=schema_dir)
