"""Webhooks, the pure part: who is owed a call for a status event, the body
of that call, its Standard Webhooks signature, and what an answer means.

Standard Webhooks (standardwebhooks.com): the headers ``webhook-id``,
``webhook-timestamp`` (unix seconds) and ``webhook-signature`` =
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with the
decoded bytes of a ``whsec_<base64>`` secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from gateway.model import Direction, DocumentMeta, State
from gateway.model.webhooks import RECIPIENT, SENDER, owner_key

SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of a secret, not one
RECEIVED = "document.received"
STATUS = "document.status"
# A recipient hears of a document once: when it reached its inbox or print run.
ARRIVED = frozenset({State.DELIVERED, State.PRINTED})


@dataclass(frozen=True, slots=True)
class Owed:
    """A call owed for one feed entry: to ``owner``, of ``type``."""

    owner: str
    type: str


def owed(meta: DocumentMeta, state: State) -> list[Owed]:
    """The calls a status event of a document may owe, before looking at who
    subscribed: the sender that submitted it hears of every state; the
    recipient, of its arrival."""
    calls = []
    if meta.direction is Direction.OUTBOUND and meta.origin:
        calls.append(Owed(owner_key(SENDER, meta.origin), STATUS))
    if state in ARRIVED and meta.recipient:
        calls.append(Owed(owner_key(RECIPIENT, meta.recipient), RECEIVED))
    return calls


def delivery_id(cursor: int, owner: str) -> str:
    """The ``webhook-id`` of the call owed to ``owner`` for feed entry
    ``cursor``: derived, not drawn, so whoever computes it again (a relay run
    twice, a second process) names the same call."""
    digest = hashlib.sha256(f"{cursor}\x1f{owner}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def body(kind: str, call_id: str, state: State, meta: DocumentMeta) -> str:
    """The JSON a subscriber receives: what an inbox lists of the document."""
    document = {
        "id": meta.id,
        "sender": meta.sender,
        "seller_name": meta.seller_name,
        "recipient": meta.recipient,
        "business_id": meta.business_id,
        "kind": meta.kind.value,
        "document_type": meta.document_type,
        "issue_date": meta.issue_date,
        "due_date": meta.due_date,
        "currency": meta.currency,
        "payable_amount": meta.payable_amount,
        "received_at": meta.received_at.isoformat(),
        "state": state.value,
    }
    data = {"type": kind, "id": call_id, "state": state.value, "document": document}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def new_secret(random_bytes: bytes) -> str:
    """A secret as shown to its subscriber, from 24 to 32 random bytes."""
    if not 24 <= len(random_bytes) <= 32:
        raise ValueError(f"a webhook secret takes 24 to 32 random bytes, not {len(random_bytes)}")
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64 part, decoded."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None


def signature(key: bytes, call_id: str, timestamp: int, payload: bytes) -> str:
    signed = f"{call_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(key: bytes, call_id: str, timestamp: int, payload: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": call_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, call_id, timestamp, payload),
    }


def delivered(status: int | None) -> bool:
    """Only a 2xx answer delivers a call, whatever its body; anything else
    (a redirect, 4xx, 429, 5xx, no answer) is tried again."""
    return status is not None and 200 <= status < 300
