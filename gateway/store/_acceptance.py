"""One ``accept``, checked and encoded before either store writes it.

``DocumentStore.accept`` is spelt out in base; both implementations take it
from ``PlannedAccept``, which checks the request and orders its keys the same
way for both, and write the resulting ``Acceptance`` in one atomic step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

from gateway.model import AcceptResult, DocumentMeta, OutboxJob, StatusEvent
from gateway.store._codec import dump_events, dump_meta, to_micros


class AcceptOptions(TypedDict, total=False):
    """The keyword arguments of ``DocumentStore.accept`` (defaults there)."""

    idempotency_key: str | None
    fingerprint: str
    job: OutboxJob | None
    keys: Sequence[str]


@dataclass(frozen=True)
class Acceptance:
    """An accept ready to write: checked, encoded, its keys in order."""

    document_id: str
    meta: str  # JSON (_codec.dump_meta)
    payload: bytes
    events: list[str]  # JSON, one per event
    claims: list[str]  # the keys to claim, in the order they are checked, each once
    fingerprint: str
    job: OutboxJob | None


def plan_accept(
    meta: DocumentMeta,
    payload: bytes,
    events: Sequence[StatusEvent],
    **options: Unpack[AcceptOptions],
) -> Acceptance:
    """Raises ValueError for a job that belongs to another document, or for a
    naive time (no timezone) anywhere in it: read back, it would be an hour or
    more off, so nothing is written."""
    job = options.get("job")
    if job is not None and job.document_id != meta.id:
        raise ValueError(f"job {job.id!r} is for document {job.document_id!r}, not {meta.id!r}")
    times = [meta.received_at, *(e.at for e in events)]
    if job is not None:
        times += [job.created_at, job.next_attempt_at]
    for at in times:
        to_micros(at)  # raises ValueError for a naive time
    first = options.get("idempotency_key")
    ordered = ([] if first is None else [first]) + list(options.get("keys", ()))
    return Acceptance(
        document_id=meta.id,
        meta=dump_meta(meta),
        payload=payload,
        events=dump_events(events),
        claims=list(dict.fromkeys(ordered)),
        fingerprint=options.get("fingerprint", ""),
        job=job,
    )


class PlannedAccept(ABC):
    """``accept`` for an implementation that writes a planned Acceptance."""

    async def accept(
        self,
        meta: DocumentMeta,
        payload: bytes,
        events: Sequence[StatusEvent],
        **options: Unpack[AcceptOptions],
    ) -> AcceptResult:
        return await self._write_acceptance(plan_accept(meta, payload, events, **options))

    @abstractmethod
    async def _write_acceptance(self, plan: Acceptance) -> AcceptResult:
        """Write the document, its events, keys and job at once, unless a key
        is claimed already (then write nothing and name its document)."""
