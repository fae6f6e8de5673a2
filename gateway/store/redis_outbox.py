"""The outbox of the shared store: jobs due for delivery, leased to one
worker at a time. Jobs enter with a document (redis_documents.accept).

Times are epoch microseconds passed to the scripts as strings: Lua would
print a number that large as 1.7e+15 and lose digits, so the scripts compare
with tonumber() but store the strings they were given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.model import OutboxJob, StatusEvent
from gateway.store._codec import dump_events, from_micros, span_micros, to_micros
from gateway.store.redis_base import job_json
from gateway.store.redis_feed import FEED_APPEND, feed_keys
from gateway.store.redis_listing import RELIST, RedisListing

# KEYS: outbox, leases, owners, jobs; ARGV: now, limit, lease_until, owner.
# Leased jobs are all due, so looking at limit + (live leases) due jobs is
# enough to find `limit` free ones when there are that many.
CLAIM = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local held = redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES',
                       'LIMIT', 0, limit + held)
local out, taken = {}, 0
for i = 1, #due, 2 do
  if taken >= limit then break end
  local id = due[i]
  local lease = redis.call('ZSCORE', KEYS[2], id)
  if not lease or tonumber(lease) <= now then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    out[#out + 1] = id
    out[#out + 1] = due[i + 1]
    out[#out + 1] = redis.call('HGET', KEYS[4], id)
    taken = taken + 1
  end
end
return out
"""

# Events for an unknown document are refused; no events need no document,
# so the worker can drop an orphan job with finish_job(job, []).

# KEYS: docs, events(doc), outbox, leases, owners, jobs, listing hash(doc),
#       feed seq, feed;
# ARGV: doc, job, owner ("" = whoever holds it), events...
# Returns 0: unknown document; 2: the lease is held by another owner now (its
# lease had expired and someone else claimed the job): nothing is written.
FINISH = (
    FEED_APPEND
    + RELIST
    + """
if #ARGV > 3 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[6], ARGV[2]) == 1
   and redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[3] then return 2 end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
if #ARGV > 3 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 4)) end
relist(KEYS[7], KEYS[2])
feed_append(KEYS[8], KEYS[9], ARGV[1], ARGV, 4)
return 1
"""
)

# KEYS: as FINISH; ARGV: doc, job, job JSON, next_attempt_at, owner, events...
# A job finished meanwhile stays finished: only an existing job is updated.
RETRY = (
    FEED_APPEND
    + RELIST
    + """
if #ARGV > 5 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[6], ARGV[2]) == 1
   and redis.call('HGET', KEYS[5], ARGV[2]) ~= ARGV[5] then return 2 end
if redis.call('HEXISTS', KEYS[6], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[6], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
end
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
if #ARGV > 5 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 6)) end
relist(KEYS[7], KEYS[2])
feed_append(KEYS[8], KEYS[9], ARGV[1], ARGV, 6)
return 1
"""
)

# KEYS: leases, owners; ARGV: '1' for every owner, owner
RELEASE = """
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if ARGV[1] == '1' or redis.call('HGET', KEYS[2], id) == ARGV[2] then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    n = n + 1
  end
end
return n
"""


def _job(job_id: bytes, score: bytes, data: bytes) -> OutboxJob:
    fields = json.loads(data)
    return OutboxJob(
        id=job_id.decode(),
        document_id=fields["doc"],
        created_at=from_micros(fields["created"]),
        next_attempt_at=from_micros(int(float(score))),
        attempts=fields["attempts"],
    )


class RedisOutbox(RedisListing):
    def _job_keys(self, document_id: str) -> list[str]:
        k = self._keys
        return [
            *(k.docs, k.events(document_id), k.outbox, k.leases, k.owners, k.jobs),
            self._listing_doc(document_id),
            *feed_keys(k),
        ]

    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[OutboxJob]:
        if limit <= 0:
            return []
        at = to_micros(now)
        k = self._keys
        keys = [k.outbox, k.leases, k.owners, k.jobs]
        flat = await self._run(CLAIM, keys, [at, limit, at + span_micros(lease), owner])
        return [_job(*flat[i : i + 3]) for i in range(0, len(flat), 3)]

    async def finish_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        args = [job.document_id, job.id, owner or "", *dump_events(events)]
        return self._outcome(job, await self._run(FINISH, self._job_keys(job.document_id), args))

    async def retry_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        args: list[Any] = [job.document_id, job.id, job_json(job)]
        args += [to_micros(job.next_attempt_at), owner or "", *dump_events(events)]
        return self._outcome(job, await self._run(RETRY, self._job_keys(job.document_id), args))

    def _outcome(self, job: OutboxJob, outcome: Any) -> bool:
        """FINISH's and RETRY's answer: True when written, False when the lease was lost."""
        if not outcome:
            raise self._refused(f"no document {job.document_id!r}")
        return int(outcome) == 1

    async def release_leases(self, owner: str | None = None) -> int:
        keys = [self._keys.leases, self._keys.owners]
        args = ["1", ""] if owner is None else ["0", owner]
        return int(await self._run(RELEASE, keys, args))

    async def outbox_depth(self) -> int:
        with self._translate():
            return int(await self._redis.zcard(self._keys.outbox))

    async def next_due(self) -> datetime | None:
        with self._translate():
            first = await self._redis.zrange(self._keys.outbox, 0, 0, withscores=True)
        return from_micros(int(first[0][1])) if first else None
