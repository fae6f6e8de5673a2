"""The reception waterfall: a document for one of our recipients goes to
the channel of each of its reception modes in turn, until one takes it.

* a channel that delivers ends the waterfall (``delivered``, ``printed``);
* a channel that refuses (no e-mail address, a mailbox that does not
  exist, no inbox account) leaves a ``fallback`` event with its reason, and
  the next mode is tried at once; a later attempt does not ask it again;
* a channel that asks to retry (an SMTP server down) stops this attempt:
  the job comes back with backoff, to the same channel;
* when every mode refused, the document has ``failed``, with each reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from gateway.channels.base import Channel, Outcome, Parcel, Recipient, Verdict
from gateway.model import State, StatusEvent

log = structlog.get_logger("gateway.reception")


@dataclass(frozen=True)
class Result:
    events: list[StatusEvent] = field(default_factory=list)  # fallbacks, then the final event
    final: StatusEvent | None = None  # delivered / printed / failed; None: retry later
    retry: str = ""  # why this attempt stops, when a channel asked to retry
    channel: str = ""  # the channel that delivered, or asked to retry


def refused_before(history: Sequence[StatusEvent]) -> dict[str, str]:
    """The channels that refused this document in earlier attempts, with why;
    an admin's retry (``requeued``) starts the waterfall afresh."""
    since = max((i for i, e in enumerate(history) if e.state is State.REQUEUED), default=-1)
    return {
        str(e.details.get("channel")): e.reason
        for e in history[since + 1 :]
        if e.state is State.FALLBACK and e.details.get("channel")
    }


async def run(
    channels: Mapping[str, Channel],
    modes: Sequence[str],
    parcel: Parcel,
    recipient: Recipient,
    *,
    clock: Callable[[], datetime],
    refused: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Result:
    """Try ``modes`` in order, skipping those that ``refused`` earlier.
    ``extra`` details (the accounting export's files) go on the final event."""
    earlier = dict(refused or {})
    remaining = [m for m in modes if m not in earlier]
    events: list[StatusEvent] = []
    reasons = [f"{mode}: {why}" for mode, why in earlier.items()]
    for i, mode in enumerate(remaining):
        outcome = await _one(channels.get(mode), mode, parcel, recipient)
        if outcome.verdict is Verdict.DELIVERED:
            details = {"channel": mode, **outcome.details, **(extra or {})}
            final = StatusEvent(outcome.state, clock(), outcome.reason, details)
            return Result([*events, final], final, "", mode)
        if outcome.verdict is Verdict.RETRY:
            return Result(events, None, f"{mode}: {outcome.reason}", mode)
        following = remaining[i + 1] if i + 1 < len(remaining) else ""
        then = f"; trying {following}" if following else ""
        events.append(
            StatusEvent(
                State.FALLBACK,
                clock(),
                f"{mode} could not take it: {outcome.reason}{then}",
                {"channel": mode, "next": following, **outcome.details},
            )
        )
        reasons.append(f"{mode}: {outcome.reason}")
        log.info("reception.fallback", channel=mode, next=following)
    final = StatusEvent(
        State.FAILED,
        clock(),
        "no reception channel could take it: " + "; ".join(reasons or ["no channel chosen"]),
        {"permanent": True, "channels": list(modes)},
    )
    return Result([*events, final], final)


async def _one(channel: Channel | None, mode: str, parcel: Parcel, recipient: Recipient) -> Outcome:
    if channel is None:
        return Outcome.refused(f"{mode} delivery is not set up on this gateway")
    try:
        return await channel.deliver(parcel, recipient)
    except Exception as exc:  # a channel's bug or an unforeseen fault: not the recipient's
        log.exception("reception.channel_crashed", channel=mode, error=type(exc).__name__)
        return Outcome.retry(f"the {mode} channel failed unexpectedly ({type(exc).__name__})")
