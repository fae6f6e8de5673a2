"""The WebhookStore contract, run against every implementation (see
conftest): subscriptions, the relay's cursor moved with the deliveries it
queues, leases, and every attempt kept."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from gateway.errors import StoreError
from gateway.model.webhooks import (
    DeliveryStatus,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
)
from gateway.store.base import WebhookStore
from tests.store.builders import LEASE, MINUTE, T0


def _delivery(did: str, *, due: timedelta = timedelta(0)) -> WebhookDelivery:
    return WebhookDelivery(
        id=did,
        owner="sender:acme",
        document_id="doc-1",
        type="document.status",
        body=json.dumps({"type": "document.status", "id": did}),
        created_at=T0,
        next_attempt_at=T0 + due,
    )


async def test_subscriptions_are_kept_replaced_and_removed(store: WebhookStore) -> None:
    """A subscription reads back as written (secret bytes exact); a second one for the same
    owner replaces it; removing it leaves none, and removing again says there was none."""
    sub = Subscription("recipient:0088:1", "https://a.example/hook", b"\x00sealed\xff", T0)
    await store.put_subscription(sub)
    await store.put_subscription(Subscription("sender:acme", "https://b.example/", b"s", T0))
    assert await store.get_subscription("recipient:0088:1") == sub
    moved = replace(sub, url="https://c.example/hook")
    await store.put_subscription(moved)
    assert [s.owner for s in await store.list_subscriptions()] == [
        "recipient:0088:1",
        "sender:acme",
    ]
    assert await store.get_subscription("recipient:0088:1") == moved
    assert await store.remove_subscription("recipient:0088:1")
    assert not await store.remove_subscription("recipient:0088:1")
    assert await store.get_subscription("recipient:0088:1") is None


async def test_enqueue_moves_the_cursor_once(store: WebhookStore) -> None:
    """Deliveries are queued with the cursor moved from where the relay read it; a second
    relay that read the same cursor writes nothing, and a delivery id already queued stays
    as it was."""
    assert await store.webhook_cursor() == 0
    assert await store.enqueue_webhooks([_delivery("d1")], expected=0, cursor=5)
    assert not await store.enqueue_webhooks(
        [_delivery("d1"), _delivery("d2")], expected=0, cursor=5
    )
    assert await store.webhook_cursor() == 5
    changed = replace(_delivery("d1"), body="{}")
    assert await store.enqueue_webhooks([changed, _delivery("d2")], expected=5, cursor=6)
    assert [d.id for d in await store.list_webhook_deliveries()] == ["d2", "d1"]
    first = await store.get_webhook_delivery("d1")
    assert first is not None and first.body == _delivery("d1").body


async def test_two_relays_at_once_queue_each_delivery_once(store: WebhookStore) -> None:
    """Ten relays that read the same cursor enqueue at once: one wins, the others write
    nothing."""
    outcomes = await asyncio.gather(
        *(store.enqueue_webhooks([_delivery("d1")], expected=0, cursor=1) for _ in range(10))
    )
    assert sorted(outcomes) == [False] * 9 + [True]
    assert len(await store.list_webhook_deliveries()) == 1


async def test_claims_lease_due_deliveries_once(store: WebhookStore) -> None:
    """Due deliveries are leased to one sender, earliest first; a leased one is not handed to
    another until its lease ends; one not yet due waits."""
    queued = [_delivery("late", due=MINUTE), _delivery("b"), _delivery("a")]
    await store.enqueue_webhooks(queued, expected=0, cursor=1)
    assert [d.id for d in await store.claim_webhooks(T0, limit=5, lease=LEASE, owner="x")] == [
        "a",
        "b",
    ]
    assert await store.claim_webhooks(T0, limit=5, lease=LEASE, owner="y") == []
    later = await store.claim_webhooks(T0 + MINUTE, limit=5, lease=LEASE, owner="y")
    assert sorted(d.id for d in later) == ["a", "b", "late"]


async def test_attempts_are_recorded_and_decide_what_is_due(store: WebhookStore) -> None:
    """A failed attempt is kept with its status and puts the delivery back for its next time;
    a delivered or dead delivery is never due again; each lists its attempts oldest first."""
    await store.enqueue_webhooks([_delivery("a"), _delivery("b")], expected=0, cursor=1)
    await store.claim_webhooks(T0, limit=5, lease=LEASE, owner="x")
    fail = WebhookAttempt(T0, 500, "")
    assert await store.record_webhook_attempt(
        "a", fail, status=DeliveryStatus.PENDING, next_attempt_at=T0 + MINUTE, owner="x"
    )
    dead = WebhookAttempt(T0, None, "timed out")
    assert await store.record_webhook_attempt("b", dead, status=DeliveryStatus.DEAD, owner="x")
    assert await store.claim_webhooks(T0, limit=5, lease=LEASE, owner="x") == []
    [again] = await store.claim_webhooks(T0 + MINUTE, limit=5, lease=LEASE, owner="y")
    assert (again.id, again.attempts, again.history) == ("a", 1, (fail,))
    ok = WebhookAttempt(T0 + MINUTE, 204, "")
    assert await store.record_webhook_attempt("a", ok, status=DeliveryStatus.DELIVERED, owner="y")
    assert await store.claim_webhooks(T0 + 9 * MINUTE, limit=5, lease=LEASE, owner="z") == []
    done = await store.get_webhook_delivery("a")
    assert done is not None
    assert (done.status, done.attempts, done.history) == (DeliveryStatus.DELIVERED, 2, (fail, ok))
    dead_only = await store.list_webhook_deliveries(status=DeliveryStatus.DEAD)
    assert [(d.id, d.history) for d in dead_only] == [("b", (dead,))]


async def test_a_sender_that_lost_its_lease_records_nothing(store: WebhookStore) -> None:
    """After a lease expired and another sender claimed the delivery, the first sender's
    outcome is refused and nothing of it is kept; an unknown delivery is an error."""
    await store.enqueue_webhooks([_delivery("a")], expected=0, cursor=1)
    await store.claim_webhooks(T0, limit=1, lease=LEASE, owner="x")
    await store.claim_webhooks(T0 + LEASE, limit=1, lease=LEASE, owner="y")
    attempt = WebhookAttempt(T0, 200, "")
    assert not await store.record_webhook_attempt(
        "a", attempt, status=DeliveryStatus.DELIVERED, owner="x"
    )
    current = await store.get_webhook_delivery("a")
    assert current is not None and (current.attempts, current.status) == (0, "pending")
    with pytest.raises(StoreError, match="no-such"):
        await store.record_webhook_attempt("no-such", attempt, status=DeliveryStatus.DEAD)


async def test_attempts_recorded_at_once_are_all_counted(store: WebhookStore) -> None:
    """Ten attempts recorded at the same time (no lease given) are all kept and counted."""
    await store.enqueue_webhooks([_delivery("a")], expected=0, cursor=1)
    attempts = [WebhookAttempt(T0 + n * MINUTE, 500, "") for n in range(10)]
    await asyncio.gather(
        *(
            store.record_webhook_attempt(
                "a", a, status=DeliveryStatus.PENDING, next_attempt_at=T0 + MINUTE
            )
            for a in attempts
        )
    )
    current = await store.get_webhook_delivery("a")
    assert current is not None
    assert current.attempts == 10 and sorted(a.at for a in current.history) == [
        a.at for a in attempts
    ]


async def test_released_leases_make_calls_due_again(store: WebhookStore) -> None:
    """Releasing one sender's leases (or all) hands its calls to the next claim at once, as a
    restart of the embedded store does for a sender that died."""
    await store.enqueue_webhooks([_delivery("a"), _delivery("b")], expected=0, cursor=1)
    await store.claim_webhooks(T0, limit=1, lease=LEASE, owner="x")
    await store.claim_webhooks(T0, limit=1, lease=LEASE, owner="y")
    assert await store.release_webhook_leases("x") == 1
    [again] = await store.claim_webhooks(T0, limit=5, lease=LEASE, owner="z")
    assert await store.release_webhook_leases(None) == 2
    assert len(await store.claim_webhooks(T0, limit=5, lease=LEASE, owner="w")) == 2
    assert again.id in ("a", "b")
