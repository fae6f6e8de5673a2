"""A store that stops answering mid-write: the sender hears soon, learns the
id to look up, and a re-send without Idempotency-Key makes no second invoice.

Redis is a private redis-server of this test (frozen with SIGSTOP), never the
shared one on 6379."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.server.app import make_app, running
from gateway.store.base import Store
from tests.conftest import invoice
from tests.support import free_port


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    server = shutil.which("redis-server")
    assert server, "redis-server is needed for this test"
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        yield port, proc
    finally:
        client.close()
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


@pytest.fixture
async def frozen_api(
    network_dir: tuple[Path, str], private_redis: tuple[int, subprocess.Popen[bytes]]
) -> AsyncIterator[tuple[TestClient, dict[str, str], subprocess.Popen[bytes], Store]]:
    cfg, token = network_dir
    port, proc = private_redis
    text = cfg.read_text().replace("[store]", "[store]\ntimeout_seconds = 1", 1)
    text = text.replace('path = "store.db"', f'url = "redis://127.0.0.1:{port}/0"')
    cfg.write_text(text)
    settings = loader.load(cfg)
    assert settings.store.url.startswith("redis://") and settings.store.timeout_seconds == 1
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    async with running(settings) as gw:
        client = TestClient(TestServer(make_app(gw)))
        await client.start_server()
        try:
            yield client, headers, proc, gw.store
        finally:
            os.kill(proc.pid, signal.SIGCONT)
            await client.close()


async def test_a_frozen_store_answers_503_naming_the_document_and_a_resend_adds_no_copy(
    frozen_api: tuple[TestClient, dict[str, str], subprocess.Popen[bytes], Store],
) -> None:
    """When Redis freezes mid-write the sender gets 503 naming the document id and location; GET
    tells whether the write landed; a resend then gets 409 for it if it did, 202 if not, so only
    one copy exists."""
    client, headers, redis_proc, store = frozen_api
    warm = await client.post("/api/v1/documents", data=invoice("INV-F-0"), headers=headers)
    assert warm.status == 202
    body = invoice("INV-F-1")

    os.kill(redis_proc.pid, signal.SIGSTOP)
    try:
        resp = await client.post("/api/v1/documents", data=body, headers=headers)
        answer = await resp.json()
    finally:
        os.kill(redis_proc.pid, signal.SIGCONT)

    assert resp.status == 503, answer
    doc_id = answer["details"]["document_id"]
    assert resp.headers["Location"] == answer["details"]["location"]
    assert answer["details"]["location"] == f"/api/v1/documents/{doc_id}"
    assert "GET" in answer["message"]
    # The write may land now that Redis runs again; GET says which, like the store.
    looked = await client.get(f"/api/v1/documents/{doc_id}", headers=headers)
    assert looked.status in (200, 404)
    landed = await store.get_meta(doc_id) is not None
    assert landed == (looked.status == 200)

    again = await client.post("/api/v1/documents", data=body, headers=headers)

    retry = await again.json()
    if landed:
        assert (again.status, retry["details"]["document_id"]) == (409, doc_id)
    else:
        assert again.status == 202, retry
    assert await store.count_documents() == 2
