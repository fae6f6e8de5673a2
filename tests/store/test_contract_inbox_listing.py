"""Listing by recipient and by sender on both stores: newest first, the
current state (that of the last event, whoever appended it) filterable, a
time floor, and cursor pages that neither skip nor repeat."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gateway.model import Cursor, Direction, ListingQuery, State
from gateway.store.base import Store
from tests.store.builders import LEASE, T0, event, job, meta, payload

BUYER = "0088:7300010000001"
OTHER = "0088:7300010000002"


async def _accept(
    store: Store,
    minute: int,
    *,
    recipient: str = BUYER,
    origin: str = "acme",
    inbound: bool = False,
    queued: bool = False,
) -> str:
    body = payload(seed=f"inbox-{minute}-{recipient}-{origin}")
    m = replace(meta(body, at=T0 + timedelta(minutes=minute)), recipient=recipient, origin=origin)
    if inbound:
        m = replace(m, direction=Direction.INBOUND)
    j = job(m.id) if queued else None
    await store.accept(m, body, [event(at=m.received_at)], job=j)
    return m.id


async def test_a_recipients_documents_come_newest_first_with_their_state(store: Store) -> None:
    """Documents for a participant come newest first, each with its current state;
    another participant's documents are not among them."""
    ids = [await _accept(store, i) for i in range(3)]
    await _accept(store, 5, recipient=OTHER)
    page = await store.list_for_recipients([BUYER], ListingQuery())
    assert [item.meta.id for item in page.documents] == ids[::-1]
    assert {item.state for item in page.documents} == {State.RECEIVED}
    assert page.next_cursor is None


async def test_pages_by_cursor_cover_every_document_once(store: Store) -> None:
    """Pages of two, each from the previous page's cursor, give all five documents once,
    across two participants read together, and the last page has no cursor."""
    ids = [await _accept(store, i, recipient=(BUYER, OTHER)[i % 2]) for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = ListingQuery(limit=2, cursor=None if cursor is None else Cursor.decode(cursor))
        page = await store.list_for_recipients([BUYER, OTHER], query)
        seen += [item.meta.id for item in page.documents]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids[::-1]


async def test_documents_at_the_same_instant_are_paged_by_id(store: Store) -> None:
    """Three documents received in the same microsecond are listed by id, one per page."""
    ids = []
    for n in range(3):
        body = payload(seed=f"same-{n}")
        m = replace(meta(body, at=T0), recipient=BUYER)
        await store.accept(m, body, [event()])
        ids.append(m.id)
    seen, cursor = [], None
    for _ in range(3):
        query = ListingQuery(limit=1, cursor=None if cursor is None else Cursor.decode(cursor))
        page = await store.list_for_recipients([BUYER], query)
        seen += [item.meta.id for item in page.documents]
        cursor = page.next_cursor
    assert seen == sorted(ids, reverse=True)


async def test_since_is_a_floor_on_the_time_received(store: Store) -> None:
    """`since` keeps documents received at or after it, that instant included."""
    ids = [await _accept(store, i) for i in range(4)]
    page = await store.list_for_recipients([BUYER], ListingQuery(since=T0 + timedelta(minutes=2)))
    assert [item.meta.id for item in page.documents] == [ids[3], ids[2]]


async def test_the_state_follows_every_write_that_appends_events(store: Store) -> None:
    """append_events, retry_job and finish_job each move the listed state, and the
    state filter finds a document under its current state only."""
    doc_id = await _accept(store, 0, queued=True)
    (claimed,) = await store.claim_due(T0 + timedelta(hours=1), limit=1, lease=LEASE, owner="w")
    await store.append_events(doc_id, [event(State.ROUTED)])
    assert await _state(store, doc_id) is State.ROUTED
    retried = replace(claimed, attempts=1, next_attempt_at=T0 + timedelta(hours=2))
    assert await store.retry_job(retried, [event(State.ATTEMPT_FAILED)], owner="w")
    assert await _state(store, doc_id) is State.ATTEMPT_FAILED
    assert await store.finish_job(retried, [event(State.DELIVERED)])
    assert await _state(store, doc_id) is State.DELIVERED
    delivered = await store.list_for_recipients([BUYER], ListingQuery(state=State.DELIVERED))
    assert [item.meta.id for item in delivered.documents] == [doc_id]
    for gone in (State.RECEIVED, State.ROUTED, State.ATTEMPT_FAILED):
        page = await store.list_for_recipients([BUYER], ListingQuery(state=gone))
        assert page.documents == []
    await store.append_events(doc_id, [event(State.RETRIEVED)])
    by_sender = await store.list_for_origin("acme", ListingQuery(state=State.RETRIEVED))
    assert [item.meta.id for item in by_sender.documents] == [doc_id]


async def _state(store: Store, doc_id: str) -> State:
    page = await store.list_for_recipients([BUYER], ListingQuery())
    return next(item.state for item in page.documents if item.meta.id == doc_id)


async def test_a_sender_lists_only_what_it_submitted(store: Store) -> None:
    """A sender's listing holds its own outbound documents, not another sender's,
    nor an inbound document whose peer network happens to have its name."""
    mine = [await _accept(store, i) for i in range(2)]
    await _accept(store, 3, origin="other")
    await _accept(store, 4, inbound=True)
    page = await store.list_for_origin("acme", ListingQuery())
    assert [item.meta.id for item in page.documents] == mine[::-1]
    assert (await store.list_for_origin("", ListingQuery())).documents == []


async def test_an_event_is_appended_only_from_the_states_allowed(store: Store) -> None:
    """append_if_current appends while the current state is allowed and answers the state
    it found; from another state, or twice in a row, it writes nothing; an unknown document
    is None."""
    doc_id = await _accept(store, 0)
    allowed = {State.DELIVERED}
    retrieved = event(State.RETRIEVED)
    assert await store.append_if_current(doc_id, retrieved, allowed) is State.RECEIVED
    assert [e.state for e in await store.history(doc_id)] == [State.RECEIVED]
    await store.append_events(doc_id, [event(State.DELIVERED)])
    assert await store.append_if_current(doc_id, retrieved, allowed) is State.DELIVERED
    assert await store.append_if_current(doc_id, retrieved, allowed) is State.RETRIEVED
    assert [e.state for e in await store.history(doc_id)] == [
        State.RECEIVED,
        State.DELIVERED,
        State.RETRIEVED,
    ]
    assert await _state(store, doc_id) is State.RETRIEVED
    assert await store.append_if_current("no-such-document", retrieved, allowed) is None


async def test_a_conditional_append_can_queue_a_job_with_it(store: Store) -> None:
    """append_if_current with a job queues that job in the same write when the state is
    allowed (a dead letter sent out again: a worker can claim it), and queues nothing when
    the state is not allowed."""
    doc_id = await _accept(store, 0)
    requeued = event(State.REQUEUED)
    again = job(doc_id)
    assert await store.append_if_current(doc_id, requeued, {State.FAILED}, job=again) is (
        State.RECEIVED
    )
    assert await store.outbox_depth() == 0
    await store.append_events(doc_id, [event(State.FAILED)])
    assert await store.append_if_current(doc_id, requeued, {State.FAILED}, job=again) is (
        State.FAILED
    )
    assert await store.outbox_depth() == 1
    [claimed] = await store.claim_due(again.next_attempt_at, limit=5, lease=LEASE, owner="worker-1")
    assert (claimed.id, claimed.document_id, claimed.attempts) == (again.id, doc_id, 0)
    assert await _state(store, doc_id) is State.REQUEUED
