"""The LedgerStore contract for the settlement ledger, run against every
implementation (see conftest): each document counted once per way."""

from __future__ import annotations

import asyncio

from gateway.model import Exchange, ExchangeCount
from gateway.store.base import LedgerStore, Store
from tests.store.builders import Backend

INV = "urn:invoice"
CN = "urn:creditnote"


def _e(doc: str, way: str = "send", month: str = "2026-11", doctype: str = INV) -> Exchange:
    return Exchange(doc, month, "beta", "alpha-beta", way, doctype)


async def test_counts_by_peer_agreement_way_and_type(store: LedgerStore) -> None:
    """A month's exchanges are counted by peer, agreement, way and type; other months apart."""
    for i in range(5):
        await store.record_exchange(_e(f"s{i}"))
    await store.record_exchange(_e("c1", doctype=CN))
    for i in range(3):
        await store.record_exchange(_e(f"r{i}", way="receive"))
    await store.record_exchange(_e("old", month="2026-10"))
    assert await store.exchanges("2026-11") == [
        ExchangeCount("beta", "alpha-beta", "receive", INV, 3),
        ExchangeCount("beta", "alpha-beta", "send", CN, 1),
        ExchangeCount("beta", "alpha-beta", "send", INV, 5),
    ]
    assert await store.exchanges("2026-10") == [ExchangeCount("beta", "alpha-beta", "send", INV, 1)]
    assert await store.exchanges("2026-09") == []


async def test_recording_twice_counts_once(store: LedgerStore) -> None:
    """The same exchange recorded ten times at once is counted once; the same document received
    as well as sent is counted once each way."""
    # A delivery retried after a crash records its exchange again: no double fee.
    await asyncio.gather(*[store.record_exchange(_e("same")) for _ in range(10)])
    await store.record_exchange(_e("same", way="receive"))
    counts = {(c.way, c.documents) for c in await store.exchanges("2026-11")}
    assert counts == {("send", 1), ("receive", 1)}


async def test_ledger_survives_reopening(backend: Backend, store: Store) -> None:
    """A recorded exchange is still counted by a new store opened on the same data after a close."""
    await store.record_exchange(_e("kept"))
    await store.close()
    again = await backend.open_store()
    try:
        assert [c.documents for c in await again.exchanges("2026-11")] == [1]
    finally:
        await again.close()
