"""What only the embedded store promises: an acknowledged write survives the
process being killed (SIGKILL: no close, no flush, no atexit)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.core.dedup import api_key, inbound_keys
from gateway.errors import StoreError
from gateway.model import ListingQuery, Partner, State
from gateway.store._sqlite_migrate import VERSION
from gateway.store.sqlite import SqliteStore
from tests.store.builders import T0, event, meta, payload

REPO = Path(__file__).resolve().parents[2]

_WRITER = """
import asyncio, os, signal, sys
from gateway.store.sqlite import SqliteStore
from tests.store.builders import event, job, meta, payload

async def main() -> None:
    store = SqliteStore(sys.argv[1])
    await store.open()
    for n in range(int(sys.argv[2])):
        body = payload(seed=f"doc-{n}")
        m = meta(body, doc_id=f"doc-{n}")
        await store.accept(m, body, [event()], idempotency_key=f"k{n}", job=job(m.id))
    print("acknowledged", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    """50 documents acknowledged before the process is killed with SIGKILL are all there when the
    file is reopened: each found by its key with its history, and each one's job claimable."""
    path = tmp_path / "gw.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRITER,
        str(path),
        "50",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert out.decode().strip() == "acknowledged"

    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.count_documents() == 50
        assert await store.outbox_depth() == 50
        for n in range(50):
            assert await store.find_by_key(f"k{n}") == f"doc-{n}"
            assert await store.history(f"doc-{n}") == [event()]
        claimed = await store.claim_due(
            T0, limit=100, lease=timedelta(seconds=30), owner="after-crash"
        )
        assert sorted(j.document_id for j in claimed) == sorted(f"doc-{n}" for n in range(50))
    finally:
        await store.close()


async def test_write_probe_fails_when_another_connection_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    """The write probe passes, then fails with StoreError saying locked while another connection
    holds the write lock, though reads still work."""
    store = SqliteStore(tmp_path / "gw.db", timeout=0.2)
    await store.open()
    hog = sqlite3.connect(tmp_path / "gw.db", isolation_level=None)
    try:
        await store.probe_write(T0)
        hog.execute("BEGIN IMMEDIATE")  # e.g. a stuck backup or sqlite3 shell

        with pytest.raises(StoreError, match="locked"):
            await store.probe_write(T0)
        assert await store.count_documents() == 0, "reads still work: only a write tells"
    finally:
        hog.close()
        await store.close()


async def test_write_probe_fails_when_the_disk_has_no_room_for_a_document(
    tmp_path: Path,
) -> None:
    """The write probe fails with StoreError about bytes free on the disk when the room asked for
    is more than the disk holds."""
    store = SqliteStore(tmp_path / "gw.db")
    await store.open()
    try:
        with pytest.raises(StoreError, match="bytes free on its disk"):
            await store.probe_write(T0, room=2**62)  # more than any disk holds
    finally:
        await store.close()


async def test_keys_stored_before_version_4_are_found_under_their_new_form(
    tmp_path: Path,
) -> None:
    """Keys a version 3 store kept in the old text form are found under their new form after
    reopening (a peer's message also under its MessageId), no longer under the old text;
    a repeat under the new key is a duplicate."""
    path = tmp_path / "gw.db"
    store = SqliteStore(path)
    await store.open()
    sent, received = payload(), payload()
    by_sender = meta(sent)  # origin "acme"
    by_peer = replace(meta(received), origin="beta:eu", message_id="m-1@beta")
    await store.accept(by_sender, sent, [event()], idempotency_key="api:acme:k:1", fingerprint="f")
    await store.accept(by_peer, received, [event()], idempotency_key="in:beta:eu:sbdh:i-1")
    await store.close()
    with sqlite3.connect(path) as conn:  # as a version 3 store left them
        conn.execute("PRAGMA user_version = 3")

    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.find_by_key(api_key("acme", "k:1")) == by_sender.id
        assert await store.find_by_key(api_key("acme:k", "1")) is None
        for key in inbound_keys("beta:eu", "m-1@beta", "i-1"):
            assert await store.find_by_key(key) == by_peer.id
        assert await store.find_by_key("api:acme:k:1") is None
        again = await store.accept(
            meta(sent), sent, [], keys=[api_key("acme", "k:1")], fingerprint="f"
        )
        assert (again.created, again.document_id) == (False, by_sender.id)
    finally:
        await store.close()


async def test_partners_of_a_version_4_store_read_back_with_their_address_not_suspect(
    tmp_path: Path,
) -> None:
    """A partner stored before partners had address_suspect (schema 4) reads back whole after
    the upgrade, not suspect, and can then be marked suspect."""
    path = tmp_path / "gw.db"
    with sqlite3.connect(path) as conn:  # the partners table as version 4 left it
        conn.execute(
            "CREATE TABLE partners (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " network TEXT NOT NULL, document_types TEXT NOT NULL, reception TEXT NOT NULL,"
            " email TEXT NOT NULL, address TEXT NOT NULL, country TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO partners VALUES ('0088:7300010000001', 'Acme', '', '', 'paper', '',"
            " '1 Main Street', 'NO')"
        )
        conn.execute("PRAGMA user_version = 4")
    store = SqliteStore(path)
    await store.open()
    try:
        old = await store.get_partner("0088:7300010000001")
        assert old == Partner(
            "0088:7300010000001", "Acme", "", (), "paper", "", ("1 Main Street",), "NO"
        )
        await store.put_partners([replace(old, address_suspect="letter returned")])
        again = await store.get_partner(old.id)
        assert again is not None and again.address_suspect == "letter returned"
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (VERSION,)


async def test_a_version_4_store_gains_the_event_feed(tmp_path: Path) -> None:
    """A store written before the event feed existed opens as version 7: its documents are
    kept, their old events are not replayed as webhooks, and new events are numbered."""
    path = tmp_path / "gw.db"
    store = SqliteStore(path)
    await store.open()
    body = payload()
    old = meta(body)
    await store.accept(old, body, [event()])
    await store.close()
    with sqlite3.connect(path) as conn:  # as a version 4 store left it
        conn.execute("DROP TABLE feed")
        for table in ("webhook_attempts", "webhook_deliveries", "webhook_cursor"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP TABLE webhook_subscriptions")
        conn.execute("PRAGMA user_version = 4")

    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.history(old.id) == [event()]
        assert await store.feed_after(0, 10) == []
        await store.append_events(old.id, [event(State.DELIVERED)])
        [entry] = await store.feed_after(0, 10)
        assert (entry.document_id, entry.state) == (old.id, State.DELIVERED)
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (VERSION,)


async def test_documents_stored_before_version_7_are_listed_with_their_state(
    tmp_path: Path,
) -> None:
    """A file from before the listing indexes lists its documents after reopening, each
    under its recipient and sender with the state of its last event."""
    path = tmp_path / "gw.db"
    store = SqliteStore(path)
    await store.open()
    body = payload()
    m = meta(body)
    await store.accept(m, body, [event(), event(State.DELIVERED)])
    await store.close()
    with sqlite3.connect(path) as conn:  # as a version 4 store left it
        conn.execute("DROP TABLE listing")
        conn.execute("PRAGMA user_version = 4")

    store = SqliteStore(path)
    await store.open()
    try:
        page = await store.list_for_recipients([m.recipient], ListingQuery())
        assert [(item.meta.id, item.state) for item in page.documents] == [(m.id, State.DELIVERED)]
        sent = await store.list_for_origin(m.origin, ListingQuery(state=State.DELIVERED))
        assert [item.meta.id for item in sent.documents] == [m.id]
    finally:
        await store.close()
