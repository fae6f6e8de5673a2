"""The Outbox contract, run against every implementation (see conftest):
claiming due jobs under a lease, finishing and retrying them, and a worker
whose lease expired (a stall, a pause) never overwriting the outcome of the
worker that took the job over."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from gateway.model import OutboxJob, State
from gateway.store.base import Store
from tests.store.builders import LEASE, MINUTE, T0, Backend, event, job, meta, payload, put

LATER = T0 + LEASE + timedelta(seconds=1)


# --- claiming ------------------------------------------------------------------


async def test_document_without_job_is_not_in_outbox(store: Store) -> None:
    """A document accepted without a job leaves the outbox empty: depth 0, no next due time, and
    nothing to claim."""
    await put(store, due=None)

    assert await store.outbox_depth() == 0
    assert await store.next_due() is None
    assert await store.claim_due(T0 + MINUTE, limit=10, lease=LEASE, owner="a") == []


async def test_claim_returns_due_jobs_earliest_first_as_stored(store: Store) -> None:
    """A claim returns only the jobs due by then, earliest first, equal to the jobs stored, with
    their times in UTC."""
    _, later = await put(store, due=T0 + MINUTE)
    _, first = await put(store, due=T0)
    await put(store, due=T0 + 2 * MINUTE)

    claimed = await store.claim_due(T0 + MINUTE, limit=10, lease=LEASE, owner="a")

    assert claimed == [first, later]
    for j in claimed:
        assert j.next_attempt_at.utcoffset() == timedelta(0)
        assert j.created_at.utcoffset() == timedelta(0)


async def test_claim_respects_limit(store: Store) -> None:
    """A claim takes at most ``limit`` jobs and the next claim the next ones; limit 0 takes none."""
    due = [T0 + timedelta(seconds=s) for s in range(5)]
    jobs = [(await put(store, due=d))[1] for d in due]

    first = await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="a")
    second = await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="b")
    third = await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="c")

    assert [first, second, third] == [jobs[:2], jobs[2:4], jobs[4:]]
    assert await store.claim_due(T0 + MINUTE, limit=0, lease=LEASE, owner="d") == []


async def test_leased_job_is_not_claimed_again_until_lease_expires(store: Store) -> None:
    """A claimed job is not handed out again, not even to the same owner, until its lease runs
    out; then another worker gets it. It stays counted in the outbox meanwhile."""
    _, j = await put(store, due=T0)
    assert await store.claim_due(T0, limit=1, lease=LEASE, owner="a") == [j]

    just_before = T0 + LEASE - timedelta(microseconds=1)
    assert await store.claim_due(just_before, limit=1, lease=LEASE, owner="b") == []
    assert await store.claim_due(just_before, limit=1, lease=LEASE, owner="a") == []
    assert await store.claim_due(T0 + LEASE, limit=1, lease=LEASE, owner="b") == [j]
    assert await store.outbox_depth() == 1


async def test_naive_datetimes_are_refused(store: Store) -> None:
    """A naive datetime (no timezone) is refused with a ValueError saying naive, whether it is
    the time of a claim, a job's due time or an event's time, and such an accept stores
    nothing."""
    naive = datetime(2025, 3, 1, 12, 0)  # local time? UTC? the store will not guess
    with pytest.raises(ValueError, match="naive"):
        await store.claim_due(naive, limit=1, lease=LEASE, owner="a")
    for due, at in ((naive, T0), (T0, naive)):
        body = payload()
        m = meta(body)
        with pytest.raises(ValueError, match="naive"):
            await store.accept(
                m, body, [event(at=at)], fingerprint=m.sha256, job=job(m.id, due=due)
            )
        assert await store.get_meta(m.id) is None
    assert await store.claim_due(T0 + LEASE, limit=10, lease=LEASE, owner="a") == []


async def test_two_stores_claiming_at_once_never_share_a_job(backend: Backend) -> None:
    """Two stores on the same data, each with four concurrent claimers, claim 120 jobs between them
    with none handed out twice or lost, and both take part."""
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


# --- finishing and retrying ----------------------------------------------------


async def test_finish_job_removes_it_and_appends_events(store: Store) -> None:
    """Finishing a claimed job appends its events to the history and removes it: outbox depth 0,
    no next due time, and nothing claimable even a day later."""
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
    """Retrying a claimed job appends its events and reschedules it; the old hour-long lease is
    dropped, so another worker claims it once the new time is due, not before."""
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
    """Retrying a job that was already finished does not put it back: the outbox stays empty and
    nothing can be claimed."""
    doc, j = await put(store)
    assert j is not None
    await store.finish_job(j, [event(State.DELIVERED)])

    await store.retry_job(OutboxJob(j.id, doc, j.created_at, T0, attempts=1), [])

    assert await store.outbox_depth() == 0
    assert await store.claim_due(T0 + MINUTE, limit=1, lease=LEASE, owner="a") == []


async def test_release_leases_by_owner_and_all(store: Store) -> None:
    """Releasing an owner's leases frees only its jobs, releasing all frees
    every job; each says how many."""
    jobs = [(await put(store, due=T0 + timedelta(seconds=s)))[1] for s in range(3)]
    await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="a")
    await store.claim_due(T0 + MINUTE, limit=2, lease=LEASE, owner="b")

    assert await store.release_leases("nobody") == 0
    assert await store.release_leases("a") == 2
    assert await store.claim_due(T0 + MINUTE, limit=5, lease=LEASE, owner="c") == jobs[:2]
    assert await store.release_leases(None) == 3  # b's one and c's two
    assert await store.claim_due(T0 + MINUTE, limit=5, lease=LEASE, owner="d") == jobs


async def test_outbox_depth_and_next_due_count_leased_jobs(store: Store) -> None:
    """Outbox depth and next due time cover every queued job, leased ones included: claiming a job
    changes neither."""
    assert (await store.outbox_depth(), await store.next_due()) == (0, None)
    await put(store, due=T0 + 2 * MINUTE)
    await put(store, due=T0 + MINUTE)
    await put(store, due=T0 + 3 * MINUTE)

    assert (await store.outbox_depth(), await store.next_due()) == (3, T0 + MINUTE)
    await store.claim_due(T0 + MINUTE, limit=1, lease=LEASE, owner="a")
    assert (await store.outbox_depth(), await store.next_due()) == (3, T0 + MINUTE)


# --- lost leases ---------------------------------------------------------------


async def test_a_worker_that_lost_its_lease_records_nothing(store: Store) -> None:
    """A worker whose lease expired and was taken over cannot finish or retry the job (both return
    False, history unchanged); the new holder can finish it."""
    doc_id, _job = await put(store, due=T0)
    (mine,) = await store.claim_due(T0, limit=1, lease=LEASE, owner="slow")
    (theirs,) = await store.claim_due(LATER, limit=1, lease=LEASE, owner="fast")
    before = await store.history(doc_id)

    assert not await store.finish_job(mine, [event(State.DELIVERED)], owner="slow")
    retry = replace(mine, attempts=1, next_attempt_at=LATER)
    assert not await store.retry_job(retry, [event(State.ATTEMPT_FAILED)], owner="slow")
    assert await store.history(doc_id) == before
    assert await store.outbox_depth() == 1

    assert await store.finish_job(theirs, [event(State.DELIVERED)], owner="fast")
    assert [e.state for e in await store.history(doc_id)][-1] is State.DELIVERED
    assert await store.outbox_depth() == 0


async def test_the_holder_may_retry_and_a_finished_job_stays_finished(store: Store) -> None:
    """The lease holder's retry succeeds and reschedules the job; the next holder's finish succeeds,
    and finishing it again returns True and leaves the outbox empty."""
    await put(store, due=T0)
    (held,) = await store.claim_due(T0, limit=1, lease=LEASE, owner="a")
    retry = replace(held, attempts=1, next_attempt_at=T0 + timedelta(minutes=5))
    assert await store.retry_job(retry, [event(State.ATTEMPT_FAILED)], owner="a")
    assert await store.next_due() == T0 + timedelta(minutes=5)
    (again,) = await store.claim_due(T0 + timedelta(minutes=5), limit=1, lease=LEASE, owner="b")
    assert await store.finish_job(again, [event(State.DELIVERED)], owner="b")
    # Finishing twice (a retry after a crash) is harmless, not a lost lease.
    assert await store.finish_job(again, [], owner="b")
    assert await store.outbox_depth() == 0
