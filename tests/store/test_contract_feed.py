"""The EventFeed contract, run against every implementation (see conftest):
every status event appended to any document is numbered in the feed by the
same write, so a reader that keeps its cursor misses none and sees none twice."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import StoreError
from gateway.model import State
from gateway.store.base import Store
from tests.store.builders import LEASE, T0, event, put


async def test_every_event_is_numbered_in_the_order_written(store: Store) -> None:
    """Acceptance, appended events, a finished and a retried job each put their events in the
    feed, numbered one by one in the order they were written."""
    doc, job = await put(store)
    assert job is not None
    await store.append_events(doc, [event(State.ROUTED)])
    [claimed] = await store.claim_due(T0, limit=1, lease=LEASE, owner="w")
    await store.retry_job(claimed, [event(State.ATTEMPT_FAILED)], owner="w")
    await store.finish_job(claimed, [event(State.DELIVERED)])
    feed = await store.feed_after(0, 100)
    assert [(e.cursor, e.document_id, e.state) for e in feed] == [
        (1, doc, State.RECEIVED),
        (2, doc, State.ROUTED),
        (3, doc, State.ATTEMPT_FAILED),
        (4, doc, State.DELIVERED),
    ]
    assert [e.cursor for e in await store.feed_after(2, 1)] == [3]
    assert await store.feed_after(4, 10) == []


async def test_a_refused_write_adds_nothing_to_the_feed(store: Store) -> None:
    """Events for an unknown document, and a finish by a worker whose lease was lost, put
    nothing in the feed."""
    await put(store)
    with pytest.raises(StoreError):
        await store.append_events("no-such-document", [event(State.ROUTED)])
    [claimed] = await store.claim_due(T0, limit=1, lease=LEASE, owner="w1")
    assert not await store.finish_job(claimed, [event(State.DELIVERED)], owner="w2")
    assert [e.state for e in await store.feed_after(0, 10)] == [State.RECEIVED]


async def test_concurrent_writers_get_distinct_cursors(store: Store) -> None:
    """Fifty documents accepted at once get fifty distinct cursors with no gap, so a reader
    paging through the feed sees each event once."""
    docs = await asyncio.gather(*(put(store, due=None) for _ in range(50)))
    seen = []
    cursor = 0
    while page := await store.feed_after(cursor, 7):
        seen += page
        cursor = page[-1].cursor
    assert [e.cursor for e in seen] == list(range(1, 51))
    assert sorted(e.document_id for e in seen) == sorted(d for d, _ in docs)
