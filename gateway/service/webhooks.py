"""Webhooks: the relay that turns the store's event feed into deliveries,
and the sender that posts them.

At least once, with nothing lost to a crash:

* The relay reads the feed after its cursor, works out the calls owed
  (core.webhooks.owed, kept to owners with a subscription), and queues them
  while moving the cursor, in one store write (``enqueue_webhooks``). A relay
  that dies before that write leaves the cursor where it was, and the next one
  computes the same calls with the same ids (derived from cursor and owner),
  so a call is queued once even when two processes relay at once.
* The sender leases due deliveries, posts each (bounded by
  ``[webhooks] concurrency`` and ``timeout_seconds``), and records the
  attempt: 2xx delivers it, anything else puts it back with backoff
  (core.backoff) until ``give_up_after_seconds`` after it was queued, when it
  becomes a dead letter. A process that dies mid-call leaves a lease that
  lapses, and the call is made again with the same ``webhook-id``.

Recording an attempt touches only the webhook tables, never a document's
history, so a call never feeds the feed it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import structlog

from gateway.config.settings import DeliverySettings
from gateway.config.webhooks import WebhookSettings
from gateway.core import webhooks as hooks
from gateway.core.backoff import next_attempt
from gateway.errors import InputError, StoreError
from gateway.metrics import Metrics
from gateway.model import DocumentMeta
from gateway.model.webhooks import (
    DeliveryStatus,
    FeedEntry,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
)
from gateway.service.webhook_secrets import SecretBox, new_secret
from gateway.store.base import DocumentStore, EventFeed, WebhookStore
from gateway.transport.webhook_client import WebhookClient

log = structlog.get_logger("gateway.webhooks")

Clock = Callable[[], datetime]
FEED_BATCH = 200


class HookStore(DocumentStore, EventFeed, WebhookStore, Protocol):
    """What webhooks read and write: documents' meta, the feed, the webhook tables."""


def check_url(url: str, *, production: bool = False) -> str:
    """A subscriber's URL: http or https with a host, no credentials in it;
    https only in production (the calls carry invoice data and a signature
    whose timestamp an eavesdropper could replay within the tolerance)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"a webhook URL is http:// or https:// with a host, not {url!r}")
    if production and parts.scheme != "https":
        raise InputError(
            f"a webhook URL must be https:// in production, not {url!r} "
            '(network.environment = "development" allows http:// for trials)'
        )
    if parts.username or parts.password:
        raise InputError("a webhook URL must not hold credentials: the signature authenticates")
    return url


async def subscribe(
    store: WebhookStore,
    owner: str,
    url: str,
    *,
    box: SecretBox,
    now: datetime,
    production: bool = False,
) -> str:
    """Subscribe ``owner`` (replacing its subscription, and its secret); the
    new secret is returned to be shown once, and kept only sealed."""
    check_url(url, production=production)
    secret = new_secret()
    await store.put_subscription(Subscription(owner, url, box.seal(owner, secret), now))
    log.info("webhooks.subscribed", owner=owner)
    return secret


# --- the relay ----------------------------------------------------------------------


class Relay:
    """Follows the feed from the stored cursor and queues the calls owed."""

    def __init__(self, store: HookStore, *, clock: Clock, metrics: Metrics | None = None) -> None:
        self.store = store
        self.clock = clock
        self.metrics = metrics

    async def step(self) -> int:
        """Relay one batch of the feed; the number of entries read (0: none new)."""
        cursor = await self.store.webhook_cursor()
        entries = await self.store.feed_after(cursor, FEED_BATCH)
        if not entries:
            return 0
        deliveries = await self._owed(entries)
        moved = await self.store.enqueue_webhooks(
            deliveries, expected=cursor, cursor=entries[-1].cursor
        )
        if moved:
            for d in deliveries:
                if self.metrics is not None:
                    self.metrics.webhooks_queued.labels(d.type).inc()
            if deliveries:
                log.info("webhooks.queued", count=len(deliveries), cursor=entries[-1].cursor)
        return len(entries)

    async def _owed(self, entries: list[FeedEntry]) -> list[WebhookDelivery]:
        now = self.clock()
        metas: dict[str, DocumentMeta | None] = {}
        subscribed: dict[str, bool] = {}
        out = []
        for entry in entries:
            if entry.document_id not in metas:
                metas[entry.document_id] = await self.store.get_meta(entry.document_id)
            meta = metas[entry.document_id]
            if meta is None:
                continue
            for call in hooks.owed(meta, entry.state):
                if call.owner not in subscribed:
                    sub = await self.store.get_subscription(call.owner)
                    subscribed[call.owner] = sub is not None
                if not subscribed[call.owner]:
                    continue
                call_id = hooks.delivery_id(entry.cursor, call.owner)
                out.append(
                    WebhookDelivery(
                        id=call_id,
                        owner=call.owner,
                        document_id=meta.id,
                        type=call.type,
                        body=hooks.body(call.type, call_id, entry.state, meta),
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
        return out


# --- the sender ---------------------------------------------------------------------


def _policy(settings: WebhookSettings) -> DeliverySettings:
    """The webhook schedule in the shape core.backoff reads."""
    return DeliverySettings(
        initial_backoff_seconds=settings.initial_backoff_seconds,
        max_backoff_seconds=settings.max_backoff_seconds,
        give_up_after_seconds=settings.give_up_after_seconds,
    )


class Sender:
    """Posts due deliveries, a bounded number at a time; a slow subscriber
    holds one slot until its timeout, never the others."""

    def __init__(
        self,
        store: WebhookStore,
        box: SecretBox,
        settings: Callable[[], WebhookSettings],
        *,
        clock: Clock,
        metrics: Metrics | None = None,
        client: WebhookClient | None = None,
    ) -> None:
        self.store = store
        self.box = box
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.client = client or WebhookClient()
        self.owner = f"webhooks-{uuid.uuid4().hex[:12]}"
        self.running: set[asyncio.Task[None]] = set()

    async def step(self) -> int:
        """Start the calls due now, as many as there are free slots."""
        cfg = self.settings()
        free = cfg.concurrency - len(self.running)
        if free <= 0:
            return 0
        due = await self.store.claim_webhooks(
            self.clock(),
            limit=free,
            lease=timedelta(seconds=cfg.lease_seconds),
            owner=self.owner,
        )
        for delivery in due:
            task = asyncio.create_task(self._post(delivery, cfg))
            self.running.add(task)
            task.add_done_callback(self.running.discard)
        return len(due)

    async def _post(self, delivery: WebhookDelivery, cfg: WebhookSettings) -> None:
        try:
            await self._attempt(delivery, cfg)
        except Exception as exc:  # the lease lapses and the call is made again
            log.error("webhooks.post_crashed", delivery=delivery.id, error=str(exc))

    async def _attempt(self, delivery: WebhookDelivery, cfg: WebhookSettings) -> None:
        sub = await self.store.get_subscription(delivery.owner)
        if sub is None:
            attempt = WebhookAttempt(self.clock(), None, "no subscription any more")
            await self._record(delivery, attempt, DeliveryStatus.DEAD, None)
            return
        try:
            key = hooks.secret_key(self.box.open(sub.owner, sub.secret))
        except (StoreError, ValueError) as exc:
            # The key file differs from the one that sealed it: no retry helps.
            attempt = WebhookAttempt(self.clock(), None, str(exc)[:300])
            await self._record(delivery, attempt, DeliveryStatus.DEAD, None)
            return
        payload = delivery.body.encode()
        sent_at = self.clock()
        headers = hooks.headers(key, delivery.id, int(sent_at.timestamp()), payload)
        answer = await self.client.post(sub.url, payload, headers, time_limit=cfg.timeout_seconds)
        attempt = WebhookAttempt(sent_at, answer.status, answer.error)
        if hooks.delivered(answer.status):
            await self._record(delivery, attempt, DeliveryStatus.DELIVERED, None)
            return
        now = self.clock()
        later = next_attempt(
            delivery.attempts + 1,
            first_attempt_at=delivery.created_at,
            now=now,
            policy=_policy(cfg),
            draw=random.random(),  # noqa: S311 - jitter, not a secret
        )
        status = DeliveryStatus.DEAD if later is None else DeliveryStatus.PENDING
        await self._record(delivery, attempt, status, later)

    async def _record(
        self,
        delivery: WebhookDelivery,
        attempt: WebhookAttempt,
        status: DeliveryStatus,
        later: datetime | None,
    ) -> None:
        kept = await self.store.record_webhook_attempt(
            delivery.id, attempt, status=status, next_attempt_at=later, owner=self.owner
        )
        outcome = {DeliveryStatus.PENDING: "retry"}.get(status, status.value)
        log.info(
            "webhooks.attempt",
            delivery=delivery.id,
            owner=delivery.owner,
            http_status=attempt.status,
            error=attempt.error,
            outcome=outcome,
            kept=kept,
        )
        if self.metrics is not None and kept:
            self.metrics.webhook_attempts.labels(outcome).inc()
            if status is DeliveryStatus.DEAD:
                self.metrics.webhook_dead_letters.inc()

    async def close(self) -> None:
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
        await self.client.close()


# --- both, as a background task ---------------------------------------------------------


class WebhookService:
    """The relay and the sender of one gateway process, polling until stopped."""

    def __init__(
        self,
        store: HookStore,
        box: SecretBox,
        settings: Callable[[], WebhookSettings],
        *,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.relay = Relay(store, clock=clock, metrics=metrics)
        self.sender = Sender(store, box, settings, clock=clock, metrics=metrics)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("webhooks.start", owner=self.sender.owner)
        try:
            while not stop.is_set():
                busy = 0
                try:
                    busy += await self.relay.step()
                    busy += await self.sender.step()
                except Exception as exc:  # store down: keep going, try later
                    log.error("webhooks.step_failed", error=str(exc))
                if not busy:
                    await self._sleep(stop)
                elif (
                    self.sender.running and len(self.sender.running) >= self.settings().concurrency
                ):
                    await asyncio.wait(self.sender.running, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await self.sender.close()
            log.info("webhooks.stop", owner=self.sender.owner)

    async def _sleep(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.settings().poll_seconds)
