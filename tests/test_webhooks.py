"""Webhook calls to real HTTP receivers on loopback: signed as Standard
Webhooks says, retried with the same id until a 2xx, never blocking other
calls, given up after the configured time, and queued once however often
the relay runs. The clock is the test's: retries are due when it says so."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from gateway.config.webhooks import WebhookSettings
from gateway.errors import InputError
from gateway.metrics import Metrics
from gateway.model import Direction, State
from gateway.model.webhooks import DeliveryStatus
from gateway.service.webhook_secrets import SecretBox
from gateway.service.webhooks import Relay, Sender, subscribe
from gateway.store.base import Store
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore
from tests import logwatch
from tests.store.builders import event, meta, payload
from tests.support import REPO, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
DOCS = REPO / "docs" / "webhooks.md"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SETTINGS = WebhookSettings(
    give_up_after_seconds=600,
    initial_backoff_seconds=10,
    max_backoff_seconds=60,
    timeout_seconds=0.5,
    lease_seconds=30,
    concurrency=4,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Receiver:
    """An HTTP server on a free loopback port; each path answers with the next of its handlers."""

    port: int
    script: dict[str, list[Handler]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls.append((request.path, dict(request.headers), await request.read()))
        handlers = self.script.get(request.path, [])
        handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        return await handler(request)

    def to(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for p, h, b in self.calls if p == path]


def answer(status: int, text: str = "", content_type: str = "text/plain") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=text, content_type=content_type)

    return handler


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver(free_port())
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", rec.port).start()
    try:
        yield rec
    finally:
        await runner.cleanup()


@dataclass
class Hooks:
    store: Store
    box: SecretBox
    clock: Clock
    metrics: Metrics
    relay: Relay
    sender: Sender

    async def subscribe(self, owner: str, url: str) -> str:
        secret = await subscribe(self.store, owner, url, box=self.box, now=self.clock())
        logwatch.register(secret)
        return secret

    async def document(self, *states: State, direction: Direction = Direction.OUTBOUND) -> str:
        body = payload()
        m = replace(meta(body), direction=direction, seller_name="Seller Ltd", currency="EUR")
        await self.store.accept(m, body, [event()])
        if states:
            await self.store.append_events(m.id, [event(s) for s in states])
        return m.id

    async def post_due(self) -> int:
        """Relay the feed, post every call due now, and wait for them to finish."""
        await self.relay.step()
        posted = 0
        while started := await self.sender.step():
            posted += started
            await asyncio.gather(*self.sender.running)
        return posted


@pytest.fixture
async def hooks(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Hooks]:
    """Webhooks over an embedded store, or over Redis when the test asks for "redis"."""
    prefix = f"test-{uuid.uuid4().hex}"
    kind = getattr(request, "param", "sqlite")
    store: Store = (
        SqliteStore(tmp_path / "store.db")
        if kind == "sqlite"
        else RedisStore(REDIS_URL, prefix=prefix)
    )
    await store.open()
    clock, metrics = Clock(), Metrics()
    box = SecretBox(tmp_path / "webhooks.key")
    relay = Relay(store, clock=clock, metrics=metrics)
    sender = Sender(store, box, lambda: SETTINGS, clock=clock, metrics=metrics)
    try:
        yield Hooks(store, box, clock, metrics, relay, sender)
    finally:
        await sender.close()
        await store.close()
        if kind == "redis":
            client = Redis.from_url(REDIS_URL)
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()


def _sample(hooks: Hooks, name: str, **labels: str) -> float | None:
    return hooks.metrics.registry.get_sample_value(name, labels)


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A subscriber's check, written from the Standard Webhooks text, not the gateway's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(f"v1,{expected}", sig) for sig in headers["webhook-signature"].split()
    )


@pytest.mark.parametrize("hooks", ["sqlite", "redis"], indirect=True)
async def test_a_sender_gets_signed_calls_for_every_state(hooks: Hooks, receiver: Receiver) -> None:
    """A subscribed sender is called for each state of the document it submitted, each call
    signed so that an independent HMAC check with its secret passes, with the document's inbox
    metadata in the body; a tampered body fails that check."""
    receiver.script["/acme"] = [answer(204)]
    secret = await hooks.subscribe("sender:acme", receiver.url("/acme"))
    doc = await hooks.document(State.ROUTED, State.DELIVERED)
    assert await hooks.post_due() == 3
    calls = receiver.to("/acme")
    bodies = [json.loads(b) for _, b in calls]
    assert sorted(b["state"] for b in bodies) == ["delivered", "received", "routed"]
    for headers, raw in calls:
        assert _verify(secret, headers, raw)
        assert not _verify(secret, headers, raw.replace(b"EUR", b"USD"))
        assert abs(int(headers["webhook-timestamp"]) - hooks.clock.now.timestamp()) <= 1
        assert json.loads(raw)["id"] == headers["webhook-id"]
    first = bodies[0]
    assert first["type"] == "document.status"
    assert first["document"]["id"] == doc
    assert first["document"]["seller_name"] == "Seller Ltd"
    assert first["document"]["currency"] == "EUR"
    assert first["document"]["state"] == first["state"]
    listed = await hooks.store.list_webhook_deliveries(status=DeliveryStatus.DELIVERED)
    assert len(listed) == 3 and all(d.history[0].status == 204 for d in listed)


async def test_a_recipient_hears_of_a_document_once_it_arrived(
    hooks: Hooks, receiver: Receiver
) -> None:
    """A subscribed recipient is called once per document, when it was delivered (or printed),
    with type document.received; documents still on their way bring no call."""
    receiver.script["/inbox"] = [answer(200)]
    await hooks.subscribe("recipient:0088:7300010000001", receiver.url("/inbox"))
    doc = await hooks.document(State.ROUTED, State.DELIVERED, direction=Direction.INBOUND)
    await hooks.document(State.ROUTED, direction=Direction.INBOUND)
    await hooks.post_due()
    [(_, raw)] = receiver.to("/inbox")
    body = json.loads(raw)
    assert (body["type"], body["state"], body["document"]["id"]) == (
        "document.received",
        "delivered",
        doc,
    )


@pytest.mark.parametrize("hooks", ["sqlite", "redis"], indirect=True)
async def test_failures_are_retried_with_the_same_id_until_a_2xx(
    hooks: Hooks, receiver: Receiver
) -> None:
    """A receiver that answers 500, then a 302, then an HTML page with 200 gets the same call
    three times with the same webhook-id; the redirect is not followed; the HTML 200 delivers
    it, since only the status counts; each attempt is listed with its status."""
    receiver.script["/flaky"] = [
        answer(500, "oops"),
        _redirect("/elsewhere"),
        answer(200, "<html><body>thanks</body></html>", "text/html"),
    ]
    receiver.script["/elsewhere"] = [answer(200)]
    await hooks.subscribe("sender:acme", receiver.url("/flaky"))
    await hooks.document()
    await hooks.post_due()
    for _ in range(2):
        [pending] = await hooks.store.list_webhook_deliveries(status=DeliveryStatus.PENDING)
        assert await hooks.post_due() == 0  # not due yet: nothing is posted early
        hooks.clock.now = pending.next_attempt_at
        await hooks.post_due()
    ids = {headers["webhook-id"] for headers, _ in receiver.to("/flaky")}
    assert len(receiver.to("/flaky")) == 3 and len(ids) == 1
    assert receiver.to("/elsewhere") == []
    [done] = await hooks.store.list_webhook_deliveries()
    assert done.status is DeliveryStatus.DELIVERED
    assert [a.status for a in done.history] == [500, 302, 200]
    assert _sample(hooks, "gateway_webhook_attempts_total", outcome="retry") == 2


def _redirect(to: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(to)

    return handler


async def test_a_receiver_that_hangs_does_not_hold_up_the_others(
    hooks: Hooks, receiver: Receiver
) -> None:
    """While one receiver holds its call open, another subscriber's call is delivered; the hung
    call times out, is recorded as unanswered, and is retried later with the same webhook-id."""
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=200)

    receiver.script["/slow"] = [hang, answer(200)]
    receiver.script["/fast"] = [answer(200)]
    await hooks.subscribe("sender:slow", receiver.url("/slow"))
    await hooks.subscribe("sender:fast", receiver.url("/fast"))
    for origin in ("slow", "fast"):
        body = payload()
        await hooks.store.accept(replace(meta(body), origin=origin), body, [event()])
    await hooks.relay.step()
    assert await hooks.sender.step() == 2
    for _ in range(200):  # the fast call completes while the slow one still hangs
        fast = await hooks.store.list_webhook_deliveries(status=DeliveryStatus.DELIVERED)
        if fast:
            break
        await asyncio.sleep(0.01)
    assert [d.owner for d in fast] == ["sender:fast"]
    assert not release.is_set()
    await asyncio.gather(*hooks.sender.running)
    release.set()
    [slow] = await hooks.store.list_webhook_deliveries(status=DeliveryStatus.PENDING)
    assert slow.history[0].status is None and "no answer within" in slow.history[0].error
    hooks.clock.now = slow.next_attempt_at
    await hooks.post_due()
    assert len({h["webhook-id"] for h, _ in receiver.to("/slow")}) == 1
    done = await hooks.store.get_webhook_delivery(slow.id)
    assert done is not None and done.status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize("hooks", ["sqlite", "redis"], indirect=True)
async def test_a_call_never_answered_2xx_is_given_up(hooks: Hooks, receiver: Receiver) -> None:
    """A receiver that always answers 503 (and a closed port) is retried until give_up_after
    seconds after queueing, then the delivery is dead, counted as a dead letter, and listed
    with every attempt."""
    receiver.script["/down"] = [answer(503)]
    await hooks.subscribe("sender:acme", receiver.url("/down"))
    await hooks.subscribe("sender:gone", f"http://127.0.0.1:{free_port()}/hook")
    for origin in ("acme", "gone"):
        body = payload()
        await hooks.store.accept(replace(meta(body), origin=origin), body, [event()])
    await hooks.post_due()
    for _ in range(100):
        pending = await hooks.store.list_webhook_deliveries(status=DeliveryStatus.PENDING)
        if not pending:
            break
        hooks.clock.now = max(d.next_attempt_at for d in pending)
        await hooks.post_due()
    dead = await hooks.store.list_webhook_deliveries(status=DeliveryStatus.DEAD)
    assert sorted(d.owner for d in dead) == ["sender:acme", "sender:gone"]
    for d in dead:
        assert d.attempts == len(d.history) > 1
        assert d.history[-1].at >= d.created_at + timedelta(seconds=600)
    refused = next(d for d in dead if d.owner == "sender:gone").history[0]
    assert refused.status is None and refused.error
    assert _sample(hooks, "gateway_webhook_dead_letters_total") == 2


@pytest.mark.parametrize("hooks", ["sqlite", "redis"], indirect=True)
async def test_the_relay_queues_each_call_once(hooks: Hooks, receiver: Receiver) -> None:
    """Relays running at once, and again afterwards, queue each call once: a crash between
    reading the feed and queueing, or a second gateway process, sends nothing twice."""
    receiver.script["/acme"] = [answer(200)]
    await hooks.subscribe("sender:acme", receiver.url("/acme"))
    for _ in range(5):
        await hooks.document(State.ROUTED)
    others = [Relay(hooks.store, clock=hooks.clock) for _ in range(4)]
    await asyncio.gather(*(r.step() for r in [hooks.relay, *others]))
    while await hooks.relay.step():
        pass
    assert await hooks.relay.step() == 0
    assert len(await hooks.store.list_webhook_deliveries()) == 10
    await hooks.post_due()
    ids = [h["webhook-id"] for h, _ in receiver.to("/acme")]
    assert len(ids) == len(set(ids)) == 10


async def test_calls_stop_when_the_subscription_goes(hooks: Hooks, receiver: Receiver) -> None:
    """A call queued for a subscriber that unsubscribed before it was posted is not posted: it
    is dead, saying why; events after unsubscribing queue nothing."""
    receiver.script["/acme"] = [answer(200)]
    await hooks.subscribe("sender:acme", receiver.url("/acme"))
    await hooks.document()
    await hooks.relay.step()
    await hooks.store.remove_subscription("sender:acme")
    await hooks.document()
    await hooks.post_due()
    assert receiver.calls == []
    [dead] = await hooks.store.list_webhook_deliveries()
    assert dead.status is DeliveryStatus.DEAD and "no subscription" in dead.history[0].error


async def test_secrets_are_sealed_at_rest(hooks: Hooks, tmp_path: Path) -> None:
    """The store holds the secret only sealed, under a key file of mode 0600; a gateway with
    another key file cannot open it, and its call is given up naming the key file."""
    secret = await hooks.subscribe("sender:acme", "http://127.0.0.1:9/hook")
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    sub = await hooks.store.get_subscription("sender:acme")
    assert sub is not None
    raw = (tmp_path / "store.db").read_bytes()
    assert secret.encode() not in raw and base64.b64decode(secret[6:]) not in raw
    assert hooks.box.open("sender:acme", sub.secret) == secret
    assert stat.S_IMODE((tmp_path / "webhooks.key").stat().st_mode) == 0o600
    other = Sender(
        hooks.store, SecretBox(tmp_path / "other.key"), lambda: SETTINGS, clock=hooks.clock
    )
    await hooks.document()
    await hooks.relay.step()
    await other.step()
    await other.close()
    [dead] = await hooks.store.list_webhook_deliveries()
    assert dead.status is DeliveryStatus.DEAD and "key_file" in dead.history[0].error


async def test_a_bad_url_is_refused_and_nothing_is_stored(hooks: Hooks) -> None:
    """A webhook URL that is not http(s) with a host, or holds credentials, is refused with a
    message naming the problem, and no subscription is stored."""
    for url in ("ftp://example.com/x", "not a url", "https://user:pw@example.com/hook"):
        with pytest.raises(InputError, match="webhook URL"):
            await subscribe(hooks.store, "sender:acme", url, box=hooks.box, now=hooks.clock())
    assert await hooks.store.list_subscriptions() == []


async def test_the_documented_check_accepts_a_real_call(hooks: Hooks, receiver: Receiver) -> None:
    """The verify() example of docs/webhooks.md, run as written, accepts a call the gateway made
    and refuses it with another secret or a changed body."""
    docs = DOCS.read_text()
    example = re.search(r"```python\n(.*?)```", docs, re.S)
    assert example is not None
    space: dict[str, Any] = {}
    exec(compile(example.group(1), "docs/webhooks.md", "exec"), space)
    verify = space["verify"]
    receiver.script["/acme"] = [answer(204)]
    hooks.clock.now = datetime.now(UTC)
    secret = await hooks.subscribe("sender:acme", receiver.url("/acme"))
    await hooks.document()
    await hooks.post_due()
    [(headers, raw)] = receiver.to("/acme")
    headers = {k.lower(): v for k, v in headers.items()}
    assert verify(secret, headers, raw)
    assert not verify(secret, headers, raw + b" ")
    assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), headers, raw)
