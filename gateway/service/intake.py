"""The checks every incoming document goes through, whoever sent it.

Raises the InputError family for what is not a safe UBL 2.1 Invoice or
CreditNote at all (the API answers 400/413/415 and stores nothing). Returns
a ``Checked`` for everything else, with the problems that make the gateway
reject it (schema errors, rules, a missing recipient).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from gateway.config.settings import LimitSettings
from gateway.errors import ValidationUnavailable
from gateway.model import Direction, DocumentMeta
from gateway.validation import check_parsed
from gateway.validation.encoding import require_utf8
from gateway.validation.facts import DocumentFacts, extract_facts
from gateway.validation.parse import classify, parse_xml
from gateway.validation.report import Finding, ValidationReport

log = structlog.get_logger("gateway.intake")


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
    runs beside the event loop, and the process that owns the sockets and
    the store keeps answering (``/healthz`` included) while a big or hostile
    document is checked. The pool starts with the first document, so a
    gateway that validates nothing starts no process; each process loads
    the schemas and rules once, when it starts.

    A pool whose process died (killed, out of memory) is broken for good, so
    it is replaced and the document tried once more on the new one; if that
    process dies too the document is refused with ``ValidationUnavailable``.
    """

    def __init__(self, processes: int = 0, *, schema_dir: Path | None = None) -> None:
        self._processes = processes
        self._schema_dir = schema_dir
        self._pool: ProcessPoolExecutor | None = None

    async def check(self, body: bytes, limits: LimitSettings) -> Checked:
        if self._processes == 0:
            return check_document(body, limits, schema_dir=self._schema_dir)
        loop = asyncio.get_running_loop()
        call = functools.partial(check_document, body, limits, schema_dir=self._schema_dir)
        for attempt in (1, 2):
            pool = self._running_pool()
            try:
                return await loop.run_in_executor(pool, call)
            except BrokenProcessPool:
                log.warning("validation.process_died", attempt=attempt, size=len(body))
                self._discard(pool)
        raise ValidationUnavailable(
            "the validation process stopped twice while checking this document "
            "(out of memory or killed); it was not accepted, try again later"
        )

    def _running_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm,
                initargs=(self._schema_dir,),
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        # Concurrent checks see the same broken pool: only the first replaces it.
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _warm(schema_dir: Path | None) -> None:
    from gateway.model import DocumentKind
    from gateway.samples import sample_bytes

    check_document(sample_bytes(DocumentKind.INVOICE), LimitSettings(), schema_dir=schema_dir)


def meta_of(
    doc_id: str,
    direction: Direction,
    f: DocumentFacts,
    body: bytes,
    now: datetime,
    *,
    origin: str,
    message_id: str = "",
) -> DocumentMeta:
    """What the store keeps about an accepted document besides its bytes:
    its routing facts and what a recipient's inbox lists."""
    return DocumentMeta(
        id=doc_id,
        direction=direction,
        kind=f.kind,
        sender=str(f.seller or ""),
        recipient=str(f.buyer or ""),
        document_type=f.document_type,
        process=f.process,
        business_id=f.business_id,
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        received_at=now,
        origin=origin,
        message_id=message_id,
        seller_country=f.seller_country,
        buyer_country=f.buyer_country,
        buyer_is_business=f.buyer_is_business,
        signed=f.signed,
        buyer_name=f.buyer_name,
        seller_name=f.seller_name,
        issue_date=f.issue_date.isoformat() if f.issue_date else "",
        due_date=f.due_date.isoformat() if f.due_date else "",
        currency=f.currency,
        payable_amount=f.payable_amount,
    )
