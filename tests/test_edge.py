"""The HTTP edge over raw sockets on loopback: headers with bytes no client
library would send, failed-authentication limits per address and per token
prefix, and uploads the client abandons half-way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web

from gateway.config import loader
from gateway.config.settings import hash_token
from gateway.server.app import Gateway, make_app, running
from tests import logwatch
from tests.builders import invoice
from tests.support import free_port

ADMIN = "edge-admin-token-0123456789abcdef"
logwatch.register(ADMIN)


@dataclass
class Edge:
    port: int
    gw: Gateway
    token: str


@pytest.fixture
async def edge(network_dir: tuple[Path, str]) -> AsyncIterator[Edge]:
    """The app served as ``gateway serve`` serves it (aiohttp's TestServer
    would cancel handlers whose client hangs up, which serve does not)."""
    cfg, token = network_dir
    # `gateway init` writes an admin token of its own: this test's replaces it.
    text = cfg.read_text()
    cfg.write_text(
        text.replace(text.split("[admin]")[1], f'\ntoken_sha256 = "{hash_token(ADMIN)}"\n')
    )
    async with running(loader.load(cfg)) as gw:
        runner = web.AppRunner(make_app(gw), access_log=None, handle_signals=False)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield Edge(port, gw, token)
        finally:
            await runner.cleanup()


async def send(
    api: Edge, path: str, headers: bytes, body: bytes = b"", *, source: str = "127.0.0.1"
) -> tuple[int, dict[str, str], Any]:
    """One request written byte for byte, from ``source`` (any 127.x address)."""
    port = api.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    head = f"POST {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n".encode()
    writer.write(head + headers + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head_bytes, _, payload = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), fields, json.loads(payload) if payload else None


def bearer(token: str | bytes) -> bytes:
    raw = token.encode() if isinstance(token, str) else token
    return b"Authorization: Bearer " + raw + b"\r\n"


XML = b"Content-Type: application/xml\r\n"


@pytest.mark.parametrize("path", ["/api/v1/documents", "/admin/reload"])
async def test_a_latin1_byte_in_the_token_is_401_not_500(edge: Edge, path: str) -> None:
    """A Bearer token with a non-ASCII byte gets 401 saying tokens are printable ASCII, on the
    API and the admin route."""
    status, _, answer = await send(edge, path, bearer(b"caf\xe9-token-0123456789") + XML)
    assert status == 401, answer
    assert "printable ASCII" in answer["message"]


async def test_a_latin1_byte_in_the_idempotency_key_is_400_and_stores_nothing(edge: Edge) -> None:
    """An Idempotency-Key with a non-ASCII byte gets 400 naming the header and stores nothing."""
    headers = bearer(edge.token) + XML + b"Idempotency-Key: order-\xe9\r\n"
    status, _, answer = await send(edge, "/api/v1/documents", headers, invoice())
    assert status == 400, answer
    assert "Idempotency-Key" in answer["message"]
    assert await edge.gw.store.count_documents() == 0


async def test_failures_from_one_address_get_429_even_with_the_right_token(edge: Edge) -> None:
    """After the limit of failed authentications from one address, even a correct token from
    there gets 429 with Retry-After and nothing stored, while other addresses still get 202."""
    limit = edge.gw.settings.limits.auth_failures_per_minute
    for i in range(limit):
        status, _, _ = await send(edge, "/admin/reload", bearer(f"guess-{i}"), source="127.0.0.2")
        assert status == 401
    status, fields, answer = await send(
        edge, "/api/v1/documents", bearer(edge.token) + XML, invoice(), source="127.0.0.2"
    )
    assert status == 429 and answer["error"] == "too_many_requests"
    assert 0 < int(fields["Retry-After"]) <= 60
    assert await edge.gw.store.count_documents() == 0
    # Other addresses are not held back.
    status, _, _ = await send(edge, "/api/v1/documents", bearer(edge.token) + XML, invoice())
    assert status == 202


async def test_failures_with_one_token_prefix_get_429_from_any_address(edge: Edge) -> None:
    """After the limit of failed tokens sharing a prefix, from many addresses, that prefix gets
    429 from a new address while another prefix still gets 401."""
    limit = edge.gw.settings.limits.auth_failures_per_minute
    for i in range(limit):
        status, _, _ = await send(
            edge, "/api/v1/documents", bearer(f"abcdefgh-guess-{i}") + XML, source=f"127.0.1.{i}"
        )
        assert status == 401
    status, fields, _ = await send(
        edge, "/api/v1/documents", bearer("abcdefgh-another") + XML, source="127.0.2.1"
    )
    assert status == 429 and int(fields["Retry-After"]) > 0
    status, _, answer = await send(
        edge, "/api/v1/documents", bearer("zyxwvuts-another") + XML, source="127.0.2.1"
    )
    assert status == 401 and answer["error"] == "unauthorized"


async def abandon(api: Edge, path: str, headers: bytes) -> None:
    """Announce a large body, send a little of it once the handler is
    reading (it has let the server answer 100 Continue), and hang up."""
    port = api.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Length: 5000000\r\n".encode()
    writer.write(head + headers + b"Expect: 100-continue\r\n\r\n")
    assert b" 100 " in await reader.readuntil(b"\r\n\r\n")
    writer.write(b"<" * 1000)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def wait_for_event(logs: list[dict[str, Any]], event: str) -> None:
    for _ in range(500):
        if any(e["event"] == event for e in logs):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {event} in {logs}")


@pytest.mark.parametrize(
    ("path", "headers", "event"),
    [
        ("/as4", b"Content-Type: multipart/related; boundary=b\r\n", "as4.client_gone"),
        ("/api/v1/documents", None, "request.client_gone"),
    ],
)
async def test_an_abandoned_upload_is_a_debug_event_without_a_reply(
    edge: Edge, path: str, headers: bytes | None, event: str
) -> None:
    """An upload the client abandons half-way (AS4 or API) is logged as one debug event, with no
    error log and no signed ebMS refusal."""
    with structlog.testing.capture_logs() as logs:
        await abandon(edge, path, headers or bearer(edge.token) + XML)
        await wait_for_event(logs, event)
    assert next(e for e in logs if e["event"] == event)["log_level"] == "debug"
    assert not [e for e in logs if e["log_level"] in ("error", "critical", "exception")]
    # No signed ebMS refusal was built for a client that is not there.
    assert not [e for e in logs if e["event"] == "as4.refused"]
