"""/healthz tells when the store can be read but not written."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.server.app import make_app, running
from gateway.store.factory import sqlite_file


async def test_healthz_is_503_while_another_process_holds_the_sqlite_write_lock(
    network_dir: tuple[Path, str],
) -> None:
    """/healthz answers 503 "cannot write ... locked" while another process holds the SQLite
    write lock, and 200 again soon after it is released."""
    cfg, _ = network_dir
    cfg.write_text(cfg.read_text().replace("[store]", "[store]\ntimeout_seconds = 0.3", 1))
    settings = loader.load(cfg)
    path = sqlite_file(settings.store.url)
    assert path is not None
    async with running(settings) as gw:
        client = TestClient(TestServer(make_app(gw)))
        await client.start_server()
        hog = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            hog.execute("BEGIN IMMEDIATE")  # e.g. a stuck backup job or sqlite3 shell
            resp = await client.get("/healthz")
            answer = await resp.json()
            assert resp.status == 503, answer
            assert answer["status"] == "unavailable"
            assert "cannot write" in answer["store"] and "locked" in answer["store"]

            hog.execute("ROLLBACK")
            for _ in range(100):  # the probe's answer is kept for a moment
                resp = await client.get("/healthz")
                if resp.status == 200:
                    break
                await asyncio.sleep(0.1)
            assert resp.status == 200, await resp.text()
        finally:
            hog.close()
            await client.close()
