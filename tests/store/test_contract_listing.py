"""The admin's listing of documents (`gateway documents`), on both stores:
newest first, a time floor, pages that neither skip nor repeat."""

from __future__ import annotations

from datetime import timedelta

from gateway.store.base import Store
from tests.store.builders import T0, event, meta, payload


async def _stored(store: Store, count: int) -> list[str]:
    ids = []
    for i in range(count):
        body = payload(seed=f"listing-{i}")
        m = meta(body, at=T0 + timedelta(minutes=i))
        await store.accept(m, body, [event(at=m.received_at)])
        ids.append(m.id)
    return ids


async def test_documents_are_listed_newest_first_in_pages(store: Store) -> None:
    """Five documents come back newest first; pages of two cover them once each."""
    ids = await _stored(store, 5)
    listed = await store.list_documents(limit=10)
    assert [m.id for m in listed] == ids[::-1]
    pages = [await store.list_documents(limit=2, offset=o) for o in (0, 2, 4)]
    assert [m.id for page in pages for m in page] == ids[::-1]
    assert await store.list_documents(limit=2, offset=6) == []


async def test_since_keeps_documents_received_at_or_after_it(store: Store) -> None:
    """`since` is a floor on the time received, equal included (microseconds too)."""
    ids = await _stored(store, 4)
    listed = await store.list_documents(since=T0 + timedelta(minutes=2))
    assert [m.id for m in listed] == [ids[3], ids[2]]
    assert listed[-1].received_at == T0 + timedelta(minutes=2)
    assert await store.list_documents(since=T0 + timedelta(hours=1)) == []
