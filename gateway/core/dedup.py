"""The keys under which documents are accepted, so that nothing is stored twice.

Each key is claimed atomically with the document it names (``Store.accept``);
a second document claiming any of them is a duplicate. Keys are made of
their parts as a JSON array: names may contain any character (a sender
called ``a:b``), and no two different tuples of parts give the same text.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import json

from gateway.validation.facts import DocumentFacts


def _key(kind: str, *parts: str) -> str:
    return kind + ":" + json.dumps(parts, ensure_ascii=False, separators=(",", ":"))


def api_key(sender: str, idempotency_key: str) -> str:
    """A sender's Idempotency-Key, in that sender's own namespace."""
    return _key("api", sender, idempotency_key)


def invoice_key(sender: str, facts: DocumentFacts) -> str | None:
    """The business identity of a sender's document: its seller, kind,
    number and issue date (None when one of them is missing)."""
    if facts.seller is None or not facts.business_id or facts.issue_date is None:
        return None
    return _key(
        "inv",
        sender,
        str(facts.seller),
        facts.kind.value,
        facts.business_id,
        facts.issue_date.isoformat(),
    )


def inbound_keys(peer: str, message_id: str, instance_id: str) -> list[str]:
    """A peer's message, by its SBDH InstanceIdentifier (end to end: a sender
    may rebuild its message with a new MessageId) and by its AS4 MessageId
    (a sender may re-wrap the document with a new InstanceIdentifier): the
    same message under either is a duplicate."""
    keys = [_key("in", peer, "sbdh", instance_id)] if instance_id else []
    if message_id:
        keys.append(_key("in", peer, "msg", message_id))
    return keys
