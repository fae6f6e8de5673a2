"""The channel seam: how a document reaches one of our recipients.

A recipient chooses one reception mode or an ordered list of them (its
waterfall, ``Recipient.reception``). Delivery hands the document to the
channel of each mode in turn until one takes it:

* ``Outcome.delivered``: the channel has it (the state says how: delivered,
  printed); the document's history records the channel and its details;
* ``Outcome.retry``: a passing problem (a server down, a 4xx from SMTP): the
  same channel is tried again later, with backoff;
* ``Outcome.refused``: this channel can never take this document for this
  recipient (no e-mail address, a 5xx "no such mailbox", no inbox account):
  the next mode of the waterfall is tried, and the reason is kept.

A channel does its own I/O but never raises for a problem it knows: it
answers with an outcome. An exception out of a channel is a bug or an
unforeseen fault; delivery treats it as ``retry``.

Every channel has an in-memory twin (``MemoryChannel``) that tests and
benchmarks use to drive the waterfall without servers.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from gateway.model import DocumentMeta, State


class Verdict(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a channel did with a document."""

    verdict: Verdict
    reason: str  # one sentence for the history: "sent to ap@example.com", "no e-mail address"
    details: Mapping[str, Any] = field(default_factory=dict)
    state: State = State.DELIVERED  # for DELIVERED: the state it reached (PRINTED for paper)

    @classmethod
    def delivered(
        cls,
        reason: str,
        details: Mapping[str, Any] | None = None,
        *,
        state: State = State.DELIVERED,
    ) -> Outcome:
        return cls(Verdict.DELIVERED, reason, dict(details or {}), state)

    @classmethod
    def retry(cls, reason: str, details: Mapping[str, Any] | None = None) -> Outcome:
        return cls(Verdict.RETRY, reason, dict(details or {}))

    @classmethod
    def refused(cls, reason: str, details: Mapping[str, Any] | None = None) -> Outcome:
        return cls(Verdict.REFUSED, reason, dict(details or {}))


@dataclass(frozen=True, slots=True)
class Recipient:
    """One of our recipients as the channels see it: from the configuration
    (``[[participants]]``) or from the directory (a partner of our network,
    or a company in no network that receives on paper)."""

    id: str  # str(ParticipantId)
    name: str
    email: str = ""
    address: tuple[str, ...] = ()  # postal address lines from the directory; () = the document's
    reception: tuple[str, ...] = ("network",)  # the waterfall, first mode first
    export_dir: Path | None = None  # accounting export add-on, if the recipient set one
    source: str = ""  # "configuration", "directory", "document"


@dataclass(frozen=True, slots=True)
class Parcel:
    """A document handed to a channel: its metadata, its exact bytes (the
    business document, as received), and the time of this attempt."""

    meta: DocumentMeta
    payload: bytes
    now: datetime
    attempt: int = 1  # 1 for the first attempt of this document's delivery


class Channel(Protocol):
    """One reception mode."""

    @property
    def mode(self) -> str:
        """The reception mode it serves: one of ``model.RECEPTIONS``."""

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome: ...


class Exporter(Protocol):
    """An add-on run before the channels for a recipient that set one (the
    accounting export): delivered when done, retry when it could not write."""

    async def export(self, parcel: Parcel, recipient: Recipient) -> Outcome: ...


@dataclass
class MemoryChannel:
    """The in-memory twin of any channel: it keeps what it was given and
    answers with the outcomes it was told to (``script``, one per call, the
    last one repeated), by default "delivered"."""

    mode: str
    script: list[Outcome] = field(default_factory=list)
    received: list[tuple[Parcel, Recipient]] = field(default_factory=list)

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        self.received.append((parcel, recipient))
        if not self.script:
            return Outcome.delivered(f"kept in memory for {recipient.id}", {"channel": self.mode})
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]
