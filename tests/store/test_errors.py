"""Failures of the backing store surface as StoreError naming the store,
never carrying the document."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.errors import StoreError
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore
from tests.store.builders import event, meta, payload


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_redis_is_a_store_error_without_credentials() -> None:
    """Opening a Redis store with no server behind it fails with a 503 StoreError naming the URL
    without its password."""
    port = _unused_port()
    store = RedisStore(f"redis://gw:hunter2@127.0.0.1:{port}/0", prefix="x")

    with pytest.raises(StoreError) as caught:
        await store.open()

    assert f"redis store redis://127.0.0.1:{port}/0" in caught.value.message
    assert "hunter2" not in caught.value.message
    assert caught.value.http_status == 503


async def test_sqlite_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    """A SQLite store whose directory is blocked by a file fails to open with a StoreError naming
    the sqlite store and the path."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the directory should be")

    with pytest.raises(StoreError, match=r"sqlite store .*not-a-dir"):
        await SqliteStore(blocker / "gw.db").open()


async def test_refused_write_does_not_echo_the_payload(tmp_path: Path) -> None:
    """A refused write (the same document accepted twice) raises a StoreError that names the
    database file but does not include the document's content."""
    store = SqliteStore(tmp_path / "gw.db")
    await store.open()
    try:
        body = payload(seed="SECRET-INVOICE-CONTENT")
        m = meta(body)
        await store.accept(m, body, [event()])
        with pytest.raises(StoreError) as caught:
            await store.accept(m, body, [event()])
    finally:
        await store.close()

    assert "SECRET-INVOICE-CONTENT" not in str(caught.value)
    assert str(tmp_path / "gw.db") in str(caught.value)
