"""Webhooks as the gateway keeps them: the feed of status events they are
made from, who subscribed, and each delivery with its attempts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from gateway.model.documents import State

RECIPIENT = "recipient"  # owner "recipient:<participant id>": new documents for it
SENDER = "sender"  # owner "sender:<sender name>": every state of what it submitted


def owner_key(kind: str, name: str) -> str:
    """The owner of a subscription: ``recipient:<participant id>`` or ``sender:<name>``."""
    if kind not in (RECIPIENT, SENDER):
        raise ValueError(f"a webhook owner is a {RECIPIENT} or a {SENDER}, not {kind!r}")
    return f"{kind}:{name}"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One status event appended to a document, numbered in the order the
    store wrote it: ``cursor`` grows by one per event, across all documents."""

    cursor: int
    document_id: str
    state: State


@dataclass(frozen=True, slots=True)
class Subscription:
    """Where an owner's webhooks go. ``secret`` is the signing secret as
    sealed at rest (service.webhook_secrets), never the secret itself."""

    owner: str
    url: str
    secret: bytes
    created_at: datetime


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # a 2xx answer
    DEAD = "dead"  # given up: the give-up time passed, or the subscription went away


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One POST of a delivery: the HTTP status answered, or the error met."""

    at: datetime
    status: int | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One webhook call owed to a subscriber. ``id`` is the ``webhook-id``
    header, the same on every retry; ``body`` the JSON sent, fixed when queued."""

    id: str
    owner: str
    document_id: str
    type: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    status: DeliveryStatus = DeliveryStatus.PENDING
    history: tuple[WebhookAttempt, ...] = ()
