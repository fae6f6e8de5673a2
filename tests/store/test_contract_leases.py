"""A worker whose lease expired (a stall, a pause) must not overwrite the
outcome of the worker that took the job over: on both stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gateway.model import State
from gateway.store.base import Store
from tests.store.builders import T0, event
from tests.store.test_contract import LEASE, put

LATER = T0 + LEASE + timedelta(seconds=1)


async def test_a_worker_that_lost_its_lease_records_nothing(store: Store) -> None:
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
