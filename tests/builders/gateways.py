"""A whole gateway in the test's process, behind aiohttp's test client.

Gateways in their own processes, on free ports, are ``tests.support``'s
``Network`` and ``make_network``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.config import loader
from gateway.server.app import Gateway, make_app, running


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    gw: Gateway
    token: str
    directory: Path

    def auth(self, token: str | None = None) -> dict[str, str]:
        """Headers of an XML request from the sender with ``token`` (ours by default)."""
        return {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/xml"}

    async def send_and_wait(self, body: bytes, *, seconds: float = 10) -> dict[str, Any]:
        """Submit ``body`` as our sender and wait for its final state: its status view."""
        resp = await self.client.post("/api/v1/documents", data=body, headers=self.auth())
        assert resp.status == 202, await resp.text()
        return await self.wait_final((await resp.json())["id"], seconds=seconds)

    async def wait_final(self, doc_id: str, *, seconds: float = 10) -> dict[str, Any]:
        """The status view of ``doc_id`` once it is final."""
        status: dict[str, Any] = {}
        for _ in range(int(seconds / 0.02)):
            got = await self.client.get(f"/api/v1/documents/{doc_id}", headers=self.auth())
            status = await got.json()
            if status["final"]:
                return status
            await asyncio.sleep(0.02)
        raise AssertionError(f"document {doc_id} not final after {seconds} s: {status}")


@asynccontextmanager
async def serve_api(config: Path, token: str) -> AsyncIterator[Api]:
    """The gateway of ``config`` running, with a client of its HTTP API."""
    async with running(loader.load(config)) as gw:
        client = TestClient(TestServer(make_app(gw)))
        await client.start_server()
        try:
            yield Api(client, gw, token, config.parent)
        finally:
            await client.close()
