"""The DocumentStore contract, run against every implementation (see
conftest): documents, their history and blobs, and accept's all-or-nothing."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import StoreError
from gateway.model import AcceptResult, State
from gateway.store.base import Store
from tests.store.builders import MINUTE, T0, event, job, meta, payload, put

# --- documents -----------------------------------------------------------------


async def test_accept_then_read_back_meta_payload_and_history(store: Store) -> None:
    """An accepted document reads back with the same meta, payload and history; accept reports it
    created, and it is counted once with its one job in the outbox."""
    body = payload(seed="INV-42")
    m = meta(body)
    events = [event(State.RECEIVED), event(State.ROUTED, T0 + MINUTE, "to peer")]

    result = await store.accept(m, body, events, job=job(m.id))

    assert (result.document_id, result.created, result.fingerprint_matches) == (m.id, True, True)
    assert await store.get_meta(m.id) == m
    assert await store.get_payload(m.id) == body
    assert await store.history(m.id) == events
    assert await store.count_documents() == 1
    assert await store.outbox_depth() == 1


async def test_unknown_document_reads_as_absent(store: Store) -> None:
    """On an empty store an unknown id has no meta, payload, history or blob, an unknown key finds
    nothing, and no document is counted."""
    assert await store.get_meta("nope") is None
    assert await store.get_payload("nope") is None
    assert await store.history("nope") == []
    assert await store.get_blob("nope", "receipt") is None
    assert await store.find_by_key("nope") is None
    assert await store.count_documents() == 0


async def test_large_payload_round_trips(store: Store) -> None:
    """A 20 MiB payload holding every byte value comes back byte for byte."""
    body = bytes(range(256)) * (20 * 1024 * 1024 // 256)  # 20 MiB, every byte value
    m = meta(body)

    await store.accept(m, body, [event()])

    assert await store.get_payload(m.id) == body


async def test_concurrent_accepts_all_land(store: Store) -> None:
    """200 accepts at once all succeed: each is created, all 200 documents and jobs are counted, and
    sampled payloads read back intact."""
    bodies = [payload() for _ in range(200)]
    metas = [meta(b) for b in bodies]

    results = await asyncio.gather(
        *(
            store.accept(m, b, [event()], idempotency_key=m.id, job=job(m.id))
            for m, b in zip(metas, bodies, strict=True)
        )
    )

    assert sorted(r.document_id for r in results) == sorted(m.id for m in metas)
    assert all(r.created for r in results)
    assert await store.count_documents() == 200
    assert await store.outbox_depth() == 200
    for m, b in zip(metas[::20], bodies[::20], strict=True):
        assert await store.get_payload(m.id) == b


# --- all or nothing ------------------------------------------------------------


async def test_accept_with_a_taken_job_id_stores_nothing(store: Store) -> None:
    """An accept whose job id is already taken fails with StoreError and leaves no meta, payload,
    history, key or job behind; its key stays free, so a retry with a new job succeeds."""
    _, taken = await put(store)
    assert taken is not None
    body = payload()
    m = meta(body)
    clash = job(m.id, job_id=taken.id)

    with pytest.raises(StoreError):
        await store.accept(m, body, [event()], idempotency_key="k2", fingerprint="f", job=clash)

    assert await store.get_meta(m.id) is None
    assert await store.get_payload(m.id) is None
    assert await store.history(m.id) == []
    assert await store.find_by_key("k2") is None
    assert await store.count_documents() == 1
    assert await store.outbox_depth() == 1
    # The key was not used up by the failed attempt: a retry goes through.
    retry = await store.accept(m, body, [event()], idempotency_key="k2", job=job(m.id))
    assert retry.created


async def test_accept_with_a_taken_document_id_leaves_original_intact(store: Store) -> None:
    """An accept reusing a stored document's id fails with StoreError: the original payload and
    history are unchanged, the new key is not claimed and the count stays at one."""
    original_body = payload()
    m = meta(original_body)
    await store.accept(m, original_body, [event()])
    impostor = payload()

    with pytest.raises(StoreError):
        await store.accept(
            meta(impostor, doc_id=m.id), impostor, [event(State.FAILED)], idempotency_key="k"
        )

    assert await store.get_payload(m.id) == original_body
    assert await store.history(m.id) == [event()]
    assert await store.find_by_key("k") is None
    assert await store.count_documents() == 1


async def test_a_failing_accept_does_not_spoil_concurrent_ones(store: Store) -> None:
    """One accept failing (its job id taken) among 30 concurrent good ones: all 30 are created with
    their jobs and payloads, and the failed document is not stored."""
    _, taken = await put(store)
    assert taken is not None
    bad_body = payload()
    bad = meta(bad_body)
    bodies = [payload() for _ in range(30)]
    metas = [meta(b) for b in bodies]

    outcomes = await asyncio.gather(
        *(store.accept(m, b, [event()], job=job(m.id)) for m, b in zip(metas, bodies, strict=True)),
        store.accept(bad, bad_body, [event()], job=job(bad.id, job_id=taken.id)),
        return_exceptions=True,
    )

    assert all(isinstance(o, AcceptResult) and o.created for o in outcomes[:-1])
    assert isinstance(outcomes[-1], StoreError)
    assert await store.count_documents() == 31
    assert await store.outbox_depth() == 31
    for m, b in zip(metas, bodies, strict=True):
        assert await store.get_payload(m.id) == b
    assert await store.get_meta(bad.id) is None


# --- events and blobs ----------------------------------------------------------


async def test_history_keeps_append_order(store: Store) -> None:
    """History lists events in the order they were appended, not by their timestamps; appending an
    empty list changes nothing."""
    doc, _ = await put(store)
    routed = event(State.ROUTED, T0 + MINUTE)
    failed = event(State.ATTEMPT_FAILED, T0 + 2 * MINUTE)
    # Stamped earlier than the others, appended last: history is append order.
    delivered = event(State.DELIVERED, T0 - MINUTE)

    await store.append_events(doc, [routed, failed])
    await store.append_events(doc, [])
    await store.append_events(doc, [delivered])

    assert await store.history(doc) == [event(), routed, failed, delivered]


async def test_events_for_unknown_document_are_refused(store: Store) -> None:
    """Appending events to a document that does not exist fails with StoreError and records no
    history for it."""
    with pytest.raises(StoreError):
        await store.append_events("ghost", [event()])

    assert await store.history("ghost") == []


async def test_blobs_are_kept_per_document_and_name(store: Store) -> None:
    """Blobs are kept per document and name: putting a name again replaces its blob, an unknown name
    reads as None, and another document does not see them."""
    doc, _ = await put(store)
    other, _ = await put(store)
    receipt = bytes(range(256)) * 4

    await store.put_blob(doc, "receipt", receipt)
    await store.put_blob(doc, "render", b"%PDF-1.7")
    await store.put_blob(doc, "render", b"%PDF-2.0")  # replaces

    assert await store.get_blob(doc, "receipt") == receipt
    assert await store.get_blob(doc, "render") == b"%PDF-2.0"
    assert await store.get_blob(doc, "missing") is None
    assert await store.get_blob(other, "receipt") is None


async def test_blob_for_unknown_document_is_refused(store: Store) -> None:
    """A blob put for a document that does not exist fails with StoreError and is not stored."""
    with pytest.raises(StoreError):
        await store.put_blob("ghost", "receipt", b"r")

    assert await store.get_blob("ghost", "receipt") is None
