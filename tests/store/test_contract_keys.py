"""The DocumentStore contract for the keys a document is accepted under (an
Idempotency-Key, a message's MessageId and InstanceIdentifier, an invoice's
business identity), several at once: run against every implementation."""

from __future__ import annotations

import asyncio

import pytest

from gateway.store.base import Store
from tests.store.builders import event, job, meta, payload, put

# --- one key -------------------------------------------------------------------


async def test_repeated_key_returns_original_and_writes_nothing(store: Store) -> None:
    """A second accept under a taken key returns the original document, not created, and stores
    nothing: no meta, history or job for the newcomer, and the key still finds the original."""
    original, _ = await put(store, key="k1")
    body = payload()
    again = meta(body)

    result = await store.accept(
        again, body, [event()], idempotency_key="k1", fingerprint=again.sha256, job=job(again.id)
    )

    assert (result.document_id, result.created) == (original, False)
    assert await store.count_documents() == 1
    assert await store.get_meta(again.id) is None
    assert await store.history(again.id) == []
    assert await store.outbox_depth() == 1
    assert await store.find_by_key("k1") == original


async def test_repeated_key_tells_whether_fingerprint_matches(store: Store) -> None:
    """A repeated key reports the original document with fingerprint_matches True when the
    fingerprint is the same and False when it differs; neither stores a document."""
    body = payload()
    m = meta(body)
    await store.accept(m, body, [event()], idempotency_key="k", fingerprint="fp-1")

    same = await store.accept(meta(body), body, [], idempotency_key="k", fingerprint="fp-1")
    other = await store.accept(meta(body), body, [], idempotency_key="k", fingerprint="fp-2")

    assert (same.document_id, same.created, same.fingerprint_matches) == (m.id, False, True)
    assert (other.document_id, other.created, other.fingerprint_matches) == (m.id, False, False)
    assert await store.count_documents() == 1


async def test_find_by_key(store: Store) -> None:
    """Each key finds the document accepted under it; a key never claimed finds nothing."""
    doc_a, _ = await put(store, key="a")
    doc_b, _ = await put(store, key="b")
    await put(store)  # no key

    assert await store.find_by_key("a") == doc_a
    assert await store.find_by_key("b") == doc_b
    assert await store.find_by_key("c") is None


async def test_concurrent_accepts_with_one_key_make_one_document(store: Store) -> None:
    """50 concurrent accepts under one key create exactly one document and one job; all 50 are told
    that same document id."""
    body = payload()
    metas = [meta(body) for _ in range(50)]

    results = await asyncio.gather(
        *(
            store.accept(m, body, [event()], idempotency_key="same", fingerprint="f", job=job(m.id))
            for m in metas
        )
    )

    winners = [r for r in results if r.created]
    assert len(winners) == 1
    assert {r.document_id for r in results} == {winners[0].document_id}
    assert await store.count_documents() == 1
    assert await store.outbox_depth() == 1


# --- several keys --------------------------------------------------------------


async def test_every_key_is_claimed_with_the_document(store: Store) -> None:
    """A document accepted under several keys is found under each of them."""
    body = payload()
    m = meta(body)

    result = await store.accept(m, body, [event()], keys=["msg:1", "sbdh:1"], job=job(m.id))

    assert result.created
    assert await store.find_by_key("msg:1") == m.id
    assert await store.find_by_key("sbdh:1") == m.id


@pytest.mark.parametrize("shared", ["msg:1", "sbdh:1"])
async def test_a_hit_on_any_key_returns_the_original_and_writes_nothing(
    store: Store, shared: str
) -> None:
    """An accept sharing any one of its keys with a stored document returns that document and the
    shared key, not created: the newcomer, its other key and its job are not stored."""
    body = payload()
    original = meta(body)
    await store.accept(original, body, [event()], keys=["msg:1", "sbdh:1"], fingerprint="f")
    other_body = payload()
    again = meta(other_body)
    other = "sbdh:2" if shared == "msg:1" else "msg:2"

    result = await store.accept(
        again, other_body, [event()], keys=[other, shared], fingerprint="f", job=job(again.id)
    )

    assert (result.document_id, result.created, result.key) == (original.id, False, shared)
    assert result.fingerprint_matches
    assert await store.get_meta(again.id) is None
    assert await store.find_by_key(other) is None, "a refused accept claims no key"
    assert await store.count_documents() == 1
    assert await store.outbox_depth() == 0


async def test_the_first_claimed_key_in_order_is_reported(store: Store) -> None:
    """When an accept's keys are taken by two different documents, the Idempotency-Key is checked
    first: its document and key are reported, with the fingerprint mismatch."""
    first_body, second_body = payload(), payload()
    first, second = meta(first_body), meta(second_body)
    await store.accept(first, first_body, [event()], keys=["idem:1"], fingerprint="a")
    await store.accept(second, second_body, [event()], keys=["inv:1"], fingerprint="b")
    body = payload()

    result = await store.accept(
        meta(body), body, [], idempotency_key="idem:1", keys=["inv:1"], fingerprint="c"
    )

    assert (result.document_id, result.key, result.fingerprint_matches) == (
        first.id,
        "idem:1",
        False,
    )


async def test_concurrent_accepts_sharing_one_of_their_keys_make_one_document(
    store: Store,
) -> None:
    """40 concurrent accepts that share one key (in either position) create one document and one
    job; all are told its id, and the losers' own keys are left unclaimed."""
    bodies = [payload() for _ in range(40)]
    metas = [meta(b) for b in bodies]

    results = await asyncio.gather(
        *(
            # Each has a key of its own and one in common, in either order.
            store.accept(
                m, b, [event()], keys=[f"own:{n}", "common"][:: 1 if n % 2 else -1], job=job(m.id)
            )
            for n, (m, b) in enumerate(zip(metas, bodies, strict=True))
        )
    )

    winners = [r for r in results if r.created]
    assert len(winners) == 1
    assert {r.document_id for r in results} == {winners[0].document_id}
    assert await store.count_documents() == 1
    assert await store.outbox_depth() == 1
    losers = {f"own:{n}" for n, r in enumerate(results) if not r.created}
    assert all([await store.find_by_key(k) is None for k in losers])


async def test_a_key_given_twice_is_claimed_once(store: Store) -> None:
    """A key given twice in one accept (as Idempotency-Key and repeated in keys) does not clash with
    itself: the document is created and found under that key."""
    body = payload()
    m = meta(body)

    result = await store.accept(m, body, [event()], idempotency_key="k", keys=["k", "k"])

    assert result.created and await store.find_by_key("k") == m.id
