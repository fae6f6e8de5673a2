"""A Redis store written before the listing indexes existed lists its
documents once a gateway opens it again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.model import ListingQuery, State
from gateway.store.redis import RedisStore
from tests.store.builders import event, meta, payload

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex}"
    yield name
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{name}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_documents_stored_before_the_listing_are_listed_after_reopening(
    prefix: str,
) -> None:
    """Documents whose listing keys are gone (as a store from before them) are listed by
    recipient and sender with their last event's state once the store is opened again."""
    store = RedisStore(REDIS_URL, prefix=prefix)
    await store.open()
    stored = []
    for n in range(3):
        body = payload(seed=f"old-{n}")
        m = meta(body)
        await store.accept(m, body, [event(), event(State.DELIVERED)])
        stored.append(m)
    await store.close()
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:ls:*", count=1000)]
        await client.delete(*keys)
    finally:
        await client.aclose()

    store = RedisStore(REDIS_URL, prefix=prefix)
    await store.open()
    try:
        query = ListingQuery(state=State.DELIVERED)
        page = await store.list_for_recipients([stored[0].recipient], query)
        assert sorted(item.meta.id for item in page.documents) == sorted(m.id for m in stored)
        sent = await store.list_for_origin(stored[0].origin, ListingQuery())
        assert len(sent.documents) == 3
    finally:
        await store.close()
