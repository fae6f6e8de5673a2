"""A real gateway process keeps answering /healthz while it checks a hostile
document: validation runs beside the event loop by default, not on it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest

from gateway.cli.scaffold import gln
from tests.support import Network, make_network
from tests.validation import docs

pytestmark = pytest.mark.slow

SELLER = f"0088:{gln('5750000001')}"


async def _submit_while_polling(net: Network, body: bytes) -> tuple[int, str, list[float]]:
    """Send ``body`` to the API on one connection and, once it is sent, poll
    /healthz on another until the answer comes. Returns the submission's
    status and text, and when each /healthz answer arrived (monotonic)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", net.port)
    head = (
        "POST /api/v1/documents HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{net.port}\r\n"
        f"Authorization: Bearer {net.token}\r\n"
        "Content-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    answer = asyncio.create_task(reader.read())  # the whole reply, until the server closes
    healthy: list[float] = []
    async with aiohttp.ClientSession() as session:
        while not answer.done():
            async with session.get(net.url + "/healthz") as resp:
                if resp.status == 200 and not answer.done():
                    healthy.append(time.monotonic())
            await asyncio.sleep(0.005)
    writer.close()
    raw = answer.result().decode("utf-8", "replace")
    status = int(raw.split(" ", 2)[1])
    return status, raw.partition("\r\n\r\n")[2], healthy


def test_healthz_answers_while_a_million_attributes_are_refused(tmp_path: Path) -> None:
    """A gateway process keeps answering /healthz while it checks an 8 MB document with a million
    attributes, which it then refuses with 400 hostile_xml naming max_attributes_per_element."""
    net = make_network(tmp_path, "busy", participants=[SELLER])  # the configuration of `init`
    body = docs.many_attributes(1_000_000)  # 8 MB, the document of issue #9
    net.start()
    try:
        status, text, healthy = asyncio.run(_submit_while_polling(net, body))
    finally:
        net.stop()
    # The server was busy with that document all along, and still answered.
    assert len(healthy) >= 5, f"/healthz answered {len(healthy)} times meanwhile"
    assert status == 400, text
    error = json.loads(text)
    assert error["error"] == "hostile_xml"
    assert "max_attributes_per_element" in error["message"]
