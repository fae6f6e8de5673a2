"""The Store contract, run against every implementation (see conftest)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from gateway.errors import StoreError
from gateway.model import AcceptResult, OutboxJob, State
from gateway.store.base import Store
from tests.store.builders import T0, event, job, meta, payload
from tests.store.conftest import Backend

MINUTE = timedelta(minutes=1)
LEASE = timedelta(seconds=30)


async def put(
    store: Store, *, due: datetime | None = T0, key: str | None = None
) -> tuple[str, OutboxJob | None]:
    """Accept a fresh document (with a job due at ``due`` unless None)."""
    body = payload()
    m = meta(body)
    j = job(m.id, due=due) if due is not None else None
    result = await store.accept(
        m, body, [event()], idempotency_key=key, fingerprint=m.sha256, job=j
    )
    assert result.created
    return m.id, j


# --- documents --------------------------------------------------------------


async def test_accept_then_read_back_meta_payload_and_history(store: Store) -> None:
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
    assert await store.get_meta("nope") is None
    assert await store.get_payload("nope") is None
    assert await store.history("nope") == []
    assert await store.get_blob("nope", "receipt") is None
    assert await store.find_by_key("nope") is None
    assert await store.count_documents() == 0


async def test_document_without_job_is_not_in_outbox(store: Store) -> None:
    await put(store, due=None)

    assert await store.outbox_depth() == 0
    assert await store.next_due() is None
    assert await store.claim_due(T0 + MINUTE, limit=10, lease=LEASE, owner="a") == []


async def test_large_payload_round_trips(store: Store) -> None:
    body = bytes(range(256)) * (20 * 1024 * 1024 // 256)  # 20 MiB, every byte value
    m = meta(body)

    await store.accept(m, body, [event()])

    assert await store.get_payload(m.id) == body


# --- idempotency ------------------------------------------------------------


async def test_repeated_key_returns_original_and_writes_nothing(store: Store) -> None:
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
    body = payload()
    m = meta(body)
    await store.accept(m, body, [event()], idempotency_key="k", fingerprint="fp-1")

    same = await store.accept(meta(body), body, [], idempotency_key="k", fingerprint="fp-1")
    other = await store.accept(meta(body), body, [], idempotency_key="k", fingerprint="fp-2")

    assert (same.document_id, same.created, same.fingerprint_matches) == (m.id, False, True)
    assert (other.document_id, other.created, other.fingerprint_matches) == (m.id, False, False)
    assert await store.count_documents() == 1


async def test_find_by_key(store: Store) -> None:
    doc_a, _ = await put(store, key="a")
    doc_b, _ = await put(store, key="b")
    await put(store)  # no key

    assert await store.find_by_key("a") == doc_a
    assert await store.find_by_key("b") == doc_b
    assert await store.find_by_key("c") is None


# --- all or nothing ---------------------------------------------------------


async def test_accept_with_a_taken_job_id_stores_nothing(store: Store) -> None:
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


# --- events and blobs -------------------------------------------------------


async def test_history_keeps_append_order(store: Store) -> None:
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
    with pytest.raises(StoreError):
        await store.append_events("ghost", [event()])

    assert await store.history("ghost") == []


async def test_blobs_are_kept_per_document_and_name(store: Store) -> None:
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
    with pytest.raises(StoreError):
        await store.put_blob("ghost", "receipt", b"r")

    assert await store.get_blob("ghost", "receipt") is None


# --- outbox -----------------------------------------------------------------


async def test_claim_returns_due_jobs_earliest_first_as_stored(store: Store) -> None:
    _, later = await put(store, due=T0 + MINUTE)
    _, first = await put(store, due=T0)
    await put(store, due=T0 + 2 * MINUTE)

    claimed = await store.claim_due(T0 + MINUTE, limit=10, lease=LEASE, owner="a")

    assert claimed == [first, later]
    for j in claimed:
        assert j.next_attempt_at.utcoffset() == timedelta(0)
        assert j.created_at.utcoffset() == timedelta(0)


async def test_claim_respects_limit(store: Store) -> None:
    due = [T0 + timedelta(seconds=s) for s in range(5)]
    jobs = [(await put(store, due=d))[1] for d in due]

    first = await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="a")
    second = await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="b")
    third = await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="c")

    assert [first, second, third] == [jobs[:2], jobs[2:4], jobs[4:]]
    assert await store.claim_due(T0 + MINUTE, limit=0, lease=LEASE, owner="d") == []


async def test_leased_job_is_not_claimed_again_until_lease_expires(store: Store) -> None:
    _, j = await put(store, due=T0)
    assert await store.claim_due(T0, limit=1, lease=LEASE, owner="a") == [j]

    just_before = T0 + LEASE - timedelta(microseconds=1)
    assert await store.claim_due(just_before, limit=1, lease=LEASE, owner="b") == []
    assert await store.claim_due(just_before, limit=1, lease=LEASE, owner="a") == []
    assert await store.claim_due(T0 + LEASE, limit=1, lease=LEASE, owner="b") == [j]
    assert await store.outbox_depth() == 1


async def test_finish_job_removes_it_and_appends_events(store: Store) -> None:
    doc, j = await put(store)
    assert j is not None
    await store.claim_due(T0, limit=1, lease=LEASE, owner="a")
    done = event(State.DELIVERED, T0 + MINUTE)

    await store.finish_job(j, [done])

    assert await store.history(doc) == [event(), done]
    assert await store.outbox_depth() == 0
    assert await store.next_due() is None
    far = T0 + timedelta(days=1)
    assert await store.claim_due(far, limit=10, lease=LEASE, owner="b") == []


async def test_retry_job_reschedules_and_drops_the_lease(store: Store) -> None:
    doc, j = await put(store)
    assert j is not None
    await store.claim_due(T0, limit=1, lease=timedelta(hours=1), owner="a")
    again = OutboxJob(j.id, doc, j.created_at, T0 + 5 * MINUTE, attempts=1)
    failed = event(State.ATTEMPT_FAILED, T0)

    await store.retry_job(again, [failed])

    assert await store.history(doc) == [event(), failed]
    assert await store.next_due() == T0 + 5 * MINUTE
    assert await store.claim_due(T0 + 4 * MINUTE, limit=1, lease=LEASE, owner="b") == []
    # Owner a's hour-long lease is gone: b gets the job once it is due.
    assert await store.claim_due(T0 + 5 * MINUTE, limit=1, lease=LEASE, owner="b") == [again]


async def test_retry_does_not_bring_back_a_finished_job(store: Store) -> None:
    doc, j = await put(store)
    assert j is not None
    await store.finish_job(j, [event(State.DELIVERED)])

    await store.retry_job(OutboxJob(j.id, doc, j.created_at, T0, attempts=1), [])

    assert await store.outbox_depth() == 0
    assert await store.claim_due(T0 + MINUTE, limit=1, lease=LEASE, owner="a") == []


async def test_release_leases_by_owner_and_all(store: Store) -> None:
    jobs = [(await put(store, due=T0 + timedelta(seconds=s)))[1] for s in range(3)]
    await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="a")
    await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="b")

    assert await store.release_leases("nobody") == 0
    assert await store.release_leases("a") == 2
    assert await store.claim_due(T0 + MINUTE, limit=5, lease=LEASE, owner="c") == jobs[:2]
    assert await store.release_leases(None) == 3  # b's one and c's two
    assert await store.claim_due(T0 + MINUTE, limit=5, lease=LEASE, owner="d") == jobs


async def test_outbox_depth_and_next_due_count_leased_jobs(store: Store) -> None:
    assert (await store.outbox_depth(), await store.next_due()) == (0, None)
    await put(store, due=T0 + 2 * MINUTE)
    await put(store, due=T0 + MINUTE)
    await put(store, due=T0 + 3 * MINUTE)

    assert (await store.outbox_depth(), await store.next_due()) == (3, T0 + MINUTE)
    await store.claim_due(T0 + MINUTE, limit=1, lease=LEASE, owner="a")
    assert (await store.outbox_depth(), await store.next_due()) == (3, T0 + MINUTE)


async def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = datetime(2025, 3, 1, 12, 0)  # local time? UTC? the store will not guess
    with pytest.raises(ValueError, match="naive"):
        await store.claim_due(naive, limit=1, lease=LEASE, owner="a")


# --- durability -------------------------------------------------------------


async def test_everything_is_there_for_a_new_instance(backend: Backend) -> None:
    first = await backend.open_store()
    doc, j = await put(first, key="k")
    await first.put_blob(doc, "receipt", b"signed")
    await first.append_events(doc, [event(State.ROUTED)])
    await first.close()

    second = await backend.open_store()

    assert await second.get_payload(doc) is not None
    assert await second.history(doc) == [event(), event(State.ROUTED)]
    assert await second.get_blob(doc, "receipt") == b"signed"
    assert await second.find_by_key("k") == doc
    assert await second.claim_due(T0, limit=5, lease=LEASE, owner="a") == [j]


async def test_open_twice_is_harmless(store: Store) -> None:
    await store.open()
    doc, _ = await put(store)

    assert await store.get_meta(doc) is not None


async def test_closed_store_refuses_work(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    await store.close()

    with pytest.raises(StoreError, match="not open"):
        await put(store)


# --- concurrency ------------------------------------------------------------


async def test_concurrent_accepts_all_land(store: Store) -> None:
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


async def test_concurrent_accepts_with_one_key_make_one_document(store: Store) -> None:
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


async def test_two_stores_claiming_at_once_never_share_a_job(backend: Backend) -> None:
    one, two = await backend.open_store(), await backend.open_store()
    jobs = [(await put(one, due=T0 + timedelta(microseconds=n)))[1] for n in range(120)]
    by_store: dict[str, list[str]] = {"one": [], "two": []}

    async def claim(store: Store, name: str, n: int) -> None:
        batch = await store.claim_due(T0 + MINUTE, limit=3, lease=LEASE, owner=f"{name}-{n}")
        by_store[name].extend(j.id for j in batch)

    for _ in range(len(jobs)):  # bounded: a lost job must fail the test, not hang it
        if len(by_store["one"]) + len(by_store["two"]) >= len(jobs):
            break
        await asyncio.gather(
            *(claim(s, name, n) for n in range(4) for name, s in (("one", one), ("two", two)))
        )

    claimed = by_store["one"] + by_store["two"]
    assert sorted(claimed) == sorted(j.id for j in jobs if j is not None)
    assert by_store["one"] and by_store["two"]  # both really took part
