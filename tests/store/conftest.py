"""The ``store`` and ``backend`` fixtures: every contract test runs against
SQLite and Redis.

Redis is a real server on 127.0.0.1:6379 (scripts/test starts one). It is
not skipped when absent: a missing server is a failing run, not a green one.
Each test gets its own random key prefix, so parallel workers never meet,
and its keys are deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gateway.store.base import Store
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore
from tests.store.builders import Backend

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _delete_keys(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    prefix = f"test-{uuid.uuid4().hex}"
    # A directory that does not exist yet: open() has to create it.
    path = tmp_path / "var" / "store.db"
    if request.param == "sqlite":
        backend = Backend("sqlite", lambda: SqliteStore(path))
    else:
        backend = Backend("redis", lambda: RedisStore(REDIS_URL, prefix=prefix))
    try:
        yield backend
    finally:
        for store in backend.opened:
            await store.close()
        if backend.kind == "redis":
            await _delete_keys(prefix)


@pytest.fixture
async def store(backend: Backend) -> Store:
    return await backend.open_store()
