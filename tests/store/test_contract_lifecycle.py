"""The StoreLifecycle contract, run against every implementation (see
conftest): what is stored outlives the store object, a closed store refuses
work, and the write probe of /healthz."""

from __future__ import annotations

import hashlib

import pytest

from gateway.errors import StoreError
from gateway.model import State
from gateway.store.base import Store
from tests.store.builders import LEASE, T0, Backend, event, put


async def test_everything_is_there_for_a_new_instance(backend: Backend) -> None:
    """After a close, a new store on the same data has the document's payload, full history, blob
    and key, and its job can be claimed."""
    first = await backend.open_store()
    doc, j = await put(first, key="k")
    await first.put_blob(doc, "receipt", b"signed")
    await first.append_events(doc, [event(State.ROUTED)])
    await first.close()

    second = await backend.open_store()

    body, kept = await second.get_payload(doc), await second.get_meta(doc)
    assert body is not None and kept is not None
    assert hashlib.sha256(body).hexdigest() == kept.sha256  # the very bytes accepted
    assert await second.history(doc) == [event(), event(State.ROUTED)]
    assert await second.get_blob(doc, "receipt") == b"signed"
    assert await second.find_by_key("k") == doc
    assert await second.claim_due(T0, limit=5, lease=LEASE, owner="a") == [j]


async def test_open_twice_is_harmless(store: Store) -> None:
    """Calling open() again on an open store does not break it: a document accepted before
    is still there and one accepted afterwards reads back."""
    before, _ = await put(store)
    await store.open()
    doc, _ = await put(store)

    assert await store.get_meta(before) is not None
    assert await store.get_meta(doc) is not None


async def test_closed_store_refuses_work(backend: Backend) -> None:
    """On a closed store, accepting, reading, claiming and counting each fail with a StoreError
    saying it is not open (nothing answers from a stale connection)."""
    store = backend.make()
    await store.open()
    doc, _ = await put(store)
    await store.close()

    with pytest.raises(StoreError, match="not open"):
        await put(store)
    for work in (
        lambda: store.get_meta(doc),
        lambda: store.history(doc),
        lambda: store.claim_due(T0, limit=1, lease=LEASE, owner="a"),
        lambda: store.count_documents(),
    ):
        with pytest.raises(StoreError, match="not open"):
            await work()


async def test_write_probe_passes_on_a_healthy_store(store: Store) -> None:
    """The /healthz write probe raises nothing on an open, healthy store, with and without a room
    requirement of 1 KiB."""
    await store.probe_write(T0)
    await store.probe_write(T0, room=1024)


async def test_write_probe_on_a_closed_store_fails(store: Store) -> None:
    """The write probe on a closed store fails with StoreError."""
    await store.close()

    with pytest.raises(StoreError):
        await store.probe_write(T0)
