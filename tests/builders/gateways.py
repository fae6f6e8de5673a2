"""A whole gateway in the test's process, behind aiohttp's test client.

Gateways in their own processes, on free ports, are ``tests.support``'s
``Network`` and ``make_network``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

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
