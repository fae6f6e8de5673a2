"""Webhooks in the shared store: subscriptions, the relay's cursor, and the
deliveries owed with every attempt made (key layout in redis_base).

A delivery is a JSON record in one hash; its due time (while pending) is its
score in ``wh:due``, its lease a score in ``wh:leases``, as for the outbox.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.model.webhooks import (
    DeliveryStatus,
    Subscription,
    WebhookAttempt,
    WebhookDelivery,
)
from gateway.store._codec import from_micros, span_micros, to_micros
from gateway.store.redis_base import RedisBase, as_text
from gateway.store.redis_outbox import RELEASE

# KEYS: cursor, deliveries, order, due
# ARGV: expected cursor, new cursor, then (id, JSON, next_attempt_at) per delivery
# Returns 0 (nothing written) when the cursor is not at the expected value.
ENQUEUE = """
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at ~= tonumber(ARGV[1]) then return 0 end
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[4], ARGV[i + 2], ARGV[i])
    redis.call('ZADD', KEYS[3], redis.call('ZCARD', KEYS[3]) + 1, ARGV[i])
  end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

# KEYS: due, leases, owners, deliveries; ARGV: now, limit, lease_until, owner.
# Returns the claimed ids (their records are read afterwards).
CLAIM = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local held = redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit + held)
local out = {}
for _, id in ipairs(due) do
  if #out >= limit then break end
  local lease = redis.call('ZSCORE', KEYS[2], id)
  if not lease or tonumber(lease) <= now then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    out[#out + 1] = id
  end
end
return out
"""

# KEYS: deliveries, due, leases, owners, attempts(id)
# ARGV: id, owner ('' = whoever), record JSON, status, next_attempt_at, attempt JSON,
#       the record as read before (the new one was made from it)
# Returns 0: unknown delivery; 2: another owner holds the lease; 3: the record
# changed since it was read (read it again); 1: written.
RECORD = """
local before = redis.call('HGET', KEYS[1], ARGV[1])
if not before then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 2 end
if before ~= ARGV[7] then return 3 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('RPUSH', KEYS[5], ARGV[6])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if ARGV[4] == 'pending' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"""


def _record(d: WebhookDelivery) -> str:
    return json.dumps(
        {
            "owner": d.owner,
            "doc": d.document_id,
            "type": d.type,
            "body": d.body,
            "created": to_micros(d.created_at),
            "due": to_micros(d.next_attempt_at),
            "attempts": d.attempts,
            "status": d.status.value,
        }
    )


def _delivery(did: str, text: bytes | str, history: list[Any]) -> WebhookDelivery:
    f = json.loads(text)
    return WebhookDelivery(
        id=did,
        owner=f["owner"],
        document_id=f["doc"],
        type=f["type"],
        body=f["body"],
        created_at=from_micros(f["created"]),
        next_attempt_at=from_micros(f["due"]),
        attempts=f["attempts"],
        status=DeliveryStatus(f["status"]),
        history=tuple(_attempt(item) for item in history),
    )


def _attempt(text: bytes | str) -> WebhookAttempt:
    f = json.loads(text)
    return WebhookAttempt(from_micros(f["at"]), f["status"], f["error"])


def _subscription(owner: str, text: bytes | str) -> Subscription:
    f = json.loads(text)
    return Subscription(owner, f["url"], base64.b64decode(f["secret"]), from_micros(f["created"]))


class RedisWebhooks(RedisBase):
    async def put_subscription(self, subscription: Subscription) -> None:
        s = subscription
        record = json.dumps(
            {
                "url": s.url,
                "secret": base64.b64encode(s.secret).decode(),
                "created": to_micros(s.created_at),
            }
        )
        with self._translate():
            await self._redis.hset(self._keys.wh_subs, s.owner, record)

    async def get_subscription(self, owner: str) -> Subscription | None:
        with self._translate():
            text = await self._redis.hget(self._keys.wh_subs, owner)
        return None if text is None else _subscription(owner, text)

    async def remove_subscription(self, owner: str) -> bool:
        with self._translate():
            return bool(await self._redis.hdel(self._keys.wh_subs, owner))

    async def list_subscriptions(self) -> list[Subscription]:
        with self._translate():
            found = await self._redis.hgetall(self._keys.wh_subs)
        subs = [_subscription(as_text(o), text) for o, text in found.items()]
        return sorted(subs, key=lambda s: s.owner.encode())

    async def webhook_cursor(self) -> int:
        with self._translate():
            value = await self._redis.get(self._keys.wh_cursor)
        return 0 if value is None else int(value)

    async def enqueue_webhooks(
        self, deliveries: Sequence[WebhookDelivery], *, expected: int, cursor: int
    ) -> bool:
        k = self._keys
        args: list[Any] = [expected, cursor]
        for d in deliveries:
            args += [d.id, _record(d), to_micros(d.next_attempt_at)]
        keys = [k.wh_cursor, k.wh_deliveries, k.wh_order, k.wh_due]
        return bool(await self._run(ENQUEUE, keys, args))

    async def claim_webhooks(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[WebhookDelivery]:
        if limit <= 0:
            return []
        at = to_micros(now)
        k = self._keys
        keys = [k.wh_due, k.wh_leases, k.wh_owners, k.wh_deliveries]
        ids = await self._run(CLAIM, keys, [at, limit, at + span_micros(lease), owner])
        return await self._read_deliveries([as_text(i) for i in ids])

    async def _read_deliveries(self, ids: list[str]) -> list[WebhookDelivery]:
        if not ids:
            return []
        with self._translate():
            pipe = self._redis.pipeline(transaction=True)
            for did in ids:
                pipe.hget(self._keys.wh_deliveries, did)
                pipe.lrange(self._keys.wh_attempts(did), 0, -1)
            found = await pipe.execute()
        out = []
        for n, did in enumerate(ids):
            text, history = found[2 * n], found[2 * n + 1]
            if text is not None:
                out.append(_delivery(did, text, history))
        return out

    async def record_webhook_attempt(
        self,
        delivery_id: str,
        attempt: WebhookAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None = None,
        owner: str | None = None,
    ) -> bool:
        k = self._keys
        keys = [k.wh_deliveries, k.wh_due, k.wh_leases, k.wh_owners, k.wh_attempts(delivery_id)]
        entry = json.dumps(
            {"at": to_micros(attempt.at), "status": attempt.status, "error": attempt.error}
        )
        while True:  # read, change, write unless it changed meanwhile (then again)
            with self._translate():
                before = await self._redis.hget(k.wh_deliveries, delivery_id)
            if before is None:
                raise self._refused(f"no webhook delivery {delivery_id!r}")
            record = json.loads(before)
            if next_attempt_at is not None:
                record["due"] = to_micros(next_attempt_at)
            record.update(attempts=record["attempts"] + 1, status=status.value)
            args = [delivery_id, owner or "", json.dumps(record), status.value, record["due"]]
            outcome = int(await self._run(RECORD, keys, [*args, entry, before]))
            if outcome == 0:
                raise self._refused(f"no webhook delivery {delivery_id!r}")
            if outcome != 3:
                return outcome == 1

    async def release_webhook_leases(self, owner: str | None = None) -> int:
        # The outbox's script: the same layout of leases and owners, other keys.
        keys = [self._keys.wh_leases, self._keys.wh_owners]
        args = ["1", ""] if owner is None else ["0", owner]
        return int(await self._run(RELEASE, keys, args))

    async def get_webhook_delivery(self, delivery_id: str) -> WebhookDelivery | None:
        found = await self._read_deliveries([delivery_id])
        return found[0] if found else None

    async def list_webhook_deliveries(
        self, *, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        # An admin's listing: reads ids newest first, a page at a time, and filters here.
        if limit <= 0:
            return []
        out: list[WebhookDelivery] = []
        step, start = max(limit, 100), 0
        while len(out) < limit:
            with self._translate():
                ids: list[Any] = await self._redis.zrevrange(
                    self._keys.wh_order, start, start + step - 1
                )
            if not ids:
                break
            page = await self._read_deliveries([as_text(i) for i in ids])
            out += [d for d in page if status is None or d.status == status]
            start += step
        return out[:limit]
