"""Webhooks end to end: subscribed with the `gateway` command, called by a
running gateway for a document submitted through its API, listed by
`gateway webhooks deliveries`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gateway.cli.main import main
from tests import logwatch
from tests.builders import BUYER, STRANGER, invoice, serve_api
from tests.support import cli, free_port

SENDER = "testnet-erp"  # the [[senders]] name scaffold.init_network writes


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    """A loopback HTTP server answering 204 to every POST, and the calls it got."""
    calls: list[tuple[str, dict[str, str], bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append((request.path, dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", calls
    finally:
        await runner.cleanup()


def _secret(config: Path, *args: str) -> str:
    out = cli(*args, "--config", str(config))
    assert out.returncode == 0, out.stderr
    [line] = [ln for ln in out.stdout.splitlines() if ln.startswith("secret (shown once): ")]
    secret = line.removeprefix("secret (shown once): ")
    logwatch.register(secret)
    return secret


def _signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers["webhook-signature"], f"v1,{mac}")


async def test_subscribed_parties_are_called_by_the_running_gateway(
    network_dir: tuple[Path, str],
    receiver: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    """After `gateway senders webhook` and `gateway recipients webhook`, a submitted invoice
    brings its sender a signed call for each state and its recipient one document.received
    call; `gateway webhooks deliveries` lists them as delivered with their HTTP status."""
    cfg, token = network_dir
    cfg.write_text(cfg.read_text() + "\n[webhooks]\npoll_seconds = 0.05\n")
    base, calls = receiver
    sender_secret = _secret(cfg, "senders", "webhook", SENDER, f"{base}/erp")
    buyer_secret = _secret(cfg, "recipients", "webhook", str(BUYER), f"{base}/buyer")
    async with serve_api(cfg, token) as api:
        resp = await api.client.post("/api/v1/documents", data=invoice(), headers=api.auth())
        assert resp.status == 202
        doc = (await resp.json())["id"]
        for _ in range(600):
            if len(calls) >= 4:
                break
            await asyncio.sleep(0.05)
    by_path: dict[str, list[dict[str, object]]] = {}
    for path, headers, body in calls:
        secret = sender_secret if path == "/erp" else buyer_secret
        assert _signed(secret, headers, body), path
        by_path.setdefault(path, []).append(json.loads(body))
    assert sorted(b["state"] for b in by_path["/erp"]) == ["delivered", "received", "routed"]
    assert {b["type"] for b in by_path["/erp"]} == {"document.status"}
    [received] = by_path["/buyer"]
    assert (received["type"], received["state"]) == ("document.received", "delivered")
    document = received["document"]
    assert isinstance(document, dict)
    assert (document["id"], document["recipient"]) == (doc, str(BUYER))
    listed = cli("webhooks", "deliveries", "--json", "--config", str(cfg))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 4
    assert {r["status"] for r in rows} == {"delivered"}
    assert all(r["attempts"][0]["status"] == 204 for r in rows)
    dead = cli("webhooks", "deliveries", "--dead", "--config", str(cfg))
    assert dead.stdout.strip() == "no dead webhook deliveries"


def test_subscribing_names_what_is_wrong(
    network_dir: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown sender name, a participant that is not ours, a URL that is not http(s), and
    a subscription without URL or --remove are refused with exit 2 and a message naming the
    problem, storing nothing; removing a webhook that does not exist exits 1."""
    cfg, _ = network_dir

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--config", str(cfg)])
        out, err = capsys.readouterr()
        return code, out, err

    cases = [
        (("senders", "webhook", "nobody", "https://example.com/h"), "no sender named 'nobody'"),
        (
            ("recipients", "webhook", str(STRANGER), "https://example.com/h"),
            "is not one of our participants",
        ),
        (("recipients", "webhook", "not-an-id", "https://example.com/h"), "not a participant id"),
        (("senders", "webhook", SENDER, "ftp://example.com/h"), "webhook URL"),
        (("senders", "webhook", SENDER), "give the URL to call, or --remove"),
    ]
    for args, message in cases:
        code, _, err = run(*args)
        assert (code, message in err) == (2, True), (args, err)
    code, _, err = run("senders", "webhook", SENDER, "--remove")
    assert code == 1 and "has no webhook" in err
    code, out, _ = run("senders", "webhook", SENDER, "https://example.com/h")
    secret = out.split("secret (shown once): ")[1].strip()
    logwatch.register(secret)
    assert code == 0 and secret.startswith("whsec_")
    code, out, _ = run("senders", "webhook", SENDER, "--remove")
    assert code == 0 and "webhook removed" in out
