"""Sending a dead letter out again: an admin fixed what made a document
``failed`` (a recipient's e-mail address, a peer's certificate) or
``refused`` (an agreement that now covers it), and asks for another
delivery. A ``requeued`` event and a new outbox job are written at once, and
only from those states, so two admins asking at once queue one delivery.
The job starts afresh: attempts, backoff and the reception waterfall.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from gateway.model import OutboxJob, State, StatusEvent
from gateway.store.base import DocumentListing

RETRYABLE = frozenset({State.FAILED, State.REFUSED})


async def requeue(
    store: DocumentListing, document_id: str, *, by: str, now: datetime
) -> State | None:
    """The state the document was in (None: no such document); it was
    queued again when that state is in RETRYABLE."""
    event = StatusEvent(State.REQUEUED, now, f"sent out again by {by}")
    job = OutboxJob(str(uuid.uuid4()), document_id, now, now)
    return await store.append_if_current(document_id, event, RETRYABLE, job=job)
