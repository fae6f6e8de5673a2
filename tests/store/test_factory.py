"""make_store: the configured URL picks the implementation."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gateway.model import Partner
from gateway.store.factory import make_store
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore


async def test_sqlite_url_opens_that_file(tmp_path: Path) -> None:
    """A sqlite:// URL makes a SQLite store that, when opened, creates that file and its missing
    directories."""
    path = tmp_path / "deep" / "dir" / "gw.db"

    store = make_store(f"sqlite://{path}")
    assert isinstance(store, SqliteStore)
    await store.open()
    await store.close()

    assert path.is_file()


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/redis.sock"]
)
def test_redis_urls_make_a_redis_store(url: str) -> None:
    """redis://, rediss:// and unix:// URLs make a Redis store."""
    assert isinstance(make_store(url, prefix="net1"), RedisStore)


@pytest.mark.parametrize(
    "url",
    ["sqlite://relative.db", "sqlite:///", "sqlite:///tmp/x.db?mode=ro", "sqlite:relative.db"],
)
def test_sqlite_url_must_name_an_absolute_file(url: str) -> None:
    """A sqlite URL with a relative path, no file name or a query string is refused with a
    ValueError asking for an absolute path."""
    with pytest.raises(ValueError, match="absolute"):
        make_store(url)


@pytest.mark.parametrize("url", ["postgres://admin:hunter2@db/gw", "/var/lib/gw.db", ""])
def test_unknown_scheme_is_refused_without_echoing_credentials(url: str) -> None:
    """A URL of another scheme, a bare path or an empty string is refused with a ValueError showing
    the expected sqlite:/// form, without echoing a password from the URL."""
    with pytest.raises(ValueError, match="expected sqlite:///") as caught:
        make_store(url)

    assert "hunter2" not in str(caught.value)


def test_unknown_sync_mode_is_refused(tmp_path: Path) -> None:
    """An unknown SQLite sync mode ("off") is refused with a ValueError naming sync."""
    with pytest.raises(ValueError, match="sync"):
        make_store(f"sqlite://{tmp_path}/gw.db", sync="off")


async def test_a_redis_url_and_prefix_reach_the_store() -> None:
    """The store made from redis://127.0.0.1:6379/N writes to that database, under the given
    prefix and nowhere else (a real Redis, read back with its own client)."""
    prefix = f"factory-{uuid.uuid4().hex[:8]}"
    store = make_store("redis://127.0.0.1:6379/3", prefix=prefix)
    await store.open()
    raw = Redis.from_url("redis://127.0.0.1:6379/3")
    try:
        await store.put_partners([Partner("0088:5790000435975", "Acme")])
        keys = [k.decode() async for k in raw.scan_iter(match="*")]
        ours = [k for k in keys if k.startswith(prefix + ":")]
        assert ours, keys
        assert await store.get_partner("0088:5790000435975") is not None
        other = Redis.from_url("redis://127.0.0.1:6379/0")
        try:
            assert not [k async for k in other.scan_iter(match=f"{prefix}*")]
        finally:
            await other.aclose()
    finally:
        for key in [k async for k in raw.scan_iter(match=f"{prefix}*")]:
            await raw.delete(key)
        await raw.aclose()
        await store.close()
