"""Documents in the shared store: metadata, payload, status history, blobs
and the keys they were accepted under (key layout in redis_base)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.model import AcceptResult, DocumentMeta, StatusEvent
from gateway.store._acceptance import Acceptance, PlannedAccept
from gateway.store._codec import dump_events, load_event, load_meta, to_micros
from gateway.store._listing import entry_from_json
from gateway.store.redis_base import as_bytes, as_text, job_json
from gateway.store.redis_feed import FEED_APPEND, feed_keys
from gateway.store.redis_listing import LIST_NEW, RELIST, RedisListing

# KEYS: docs, doc, events, outbox, jobs, listing hash (redis_listing), feed
#       seq, feed (redis_feed), then one idem key per claimed key
# ARGV: doc id, fingerprint, meta, payload, job id ('' = none), job JSON,
#       next_attempt_at, the four list_new arguments, events...
# Returns {'dup', doc, fingerprint matches, index of the key in KEYS} when a
# key is already claimed, so nothing is written.
ACCEPT = (
    FEED_APPEND
    + LIST_NEW
    + """
for i = 9, #KEYS do
  local prior = redis.call('HMGET', KEYS[i], 'doc', 'fp')
  if prior[1] then
    return {'dup', prior[1], prior[2] == ARGV[2] and '1' or '0', i}
  end
end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return {'err', 'document ' .. ARGV[1] .. ' is already stored', '0', 0}
end
local job = ARGV[5]
if job ~= '' and redis.call('HEXISTS', KEYS[5], job) == 1 then
  return {'err', 'job ' .. job .. ' is already in the outbox', '0', 0}
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'meta', ARGV[3], 'payload', ARGV[4])
if #ARGV > 11 then redis.call('RPUSH', KEYS[3], unpack(ARGV, 12)) end
list_new(KEYS[6], KEYS[3], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
feed_append(KEYS[7], KEYS[8], ARGV[1], ARGV, 12)
for i = 9, #KEYS do redis.call('HSET', KEYS[i], 'doc', ARGV[1], 'fp', ARGV[2]) end
if job ~= '' then
  redis.call('HSET', KEYS[5], job, ARGV[6])
  redis.call('ZADD', KEYS[4], ARGV[7], job)
end
return {'ok', ARGV[1], '1', 0}
"""
)

# Events for an unknown document are refused.
# KEYS: docs, events(doc), listing hash(doc), feed seq, feed; ARGV: doc id, events...
APPEND = (
    FEED_APPEND
    + RELIST
    + """
if #ARGV > 1 and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if #ARGV > 1 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 2)) end
relist(KEYS[3], KEYS[2])
feed_append(KEYS[4], KEYS[5], ARGV[1], ARGV, 2)
return 1
"""
)

# KEYS: docs, blobs(doc); ARGV: doc, name, data
PUT_BLOB = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


class RedisDocuments(PlannedAccept, RedisListing):
    async def _write_acceptance(self, plan: Acceptance) -> AcceptResult:
        k, doc = self._keys, plan.document_id
        script_keys = [k.docs, k.doc(doc), k.events(doc), k.outbox, k.jobs]
        script_keys += [self._listing_doc(doc), *feed_keys(k)]
        script_keys += [k.idem(key) for key in plan.claims]
        job_args: list[Any] = ["", "", 0]
        if plan.job is not None:
            job_args = [plan.job.id, job_json(plan.job), to_micros(plan.job.next_attempt_at)]
        args: list[Any] = [doc, plan.fingerprint, plan.meta, plan.payload, *job_args]
        args += self._listing_args(entry_from_json(plan.meta))
        args += plan.events
        outcome, document_id, matches, index = await self._run(ACCEPT, script_keys, args)
        if outcome == b"err":
            raise self._refused(document_id.decode())
        if outcome == b"dup":
            key = plan.claims[int(index) - 9]  # Lua counts KEYS from 1; claims start at KEYS[9]
            return AcceptResult(
                document_id.decode(), created=False, fingerprint_matches=matches == b"1", key=key
            )
        return AcceptResult(document_id.decode(), created=True)

    async def get_meta(self, document_id: str) -> DocumentMeta | None:
        with self._translate():
            text = await self._redis.hget(self._keys.doc(document_id), "meta")
        return None if text is None else load_meta(text)

    async def get_payload(self, document_id: str) -> bytes | None:
        with self._translate():
            return as_bytes(await self._redis.hget(self._keys.doc(document_id), "payload"))

    async def history(self, document_id: str) -> list[StatusEvent]:
        with self._translate():
            items = await self._redis.lrange(self._keys.events(document_id), 0, -1)
        return [load_event(item) for item in items]

    async def append_events(self, document_id: str, events: Sequence[StatusEvent]) -> None:
        keys = [self._keys.docs, self._keys.events(document_id), self._listing_doc(document_id)]
        keys += feed_keys(self._keys)
        if not await self._run(APPEND, keys, [document_id, *dump_events(events)]):
            raise self._refused(f"no document {document_id!r}")

    async def put_blob(self, document_id: str, name: str, data: bytes) -> None:
        keys = [self._keys.docs, self._keys.blobs(document_id)]
        if not await self._run(PUT_BLOB, keys, [document_id, name, data]):
            raise self._refused(f"no document {document_id!r}")

    async def get_blob(self, document_id: str, name: str) -> bytes | None:
        with self._translate():
            return as_bytes(await self._redis.hget(self._keys.blobs(document_id), name))

    async def find_by_key(self, idempotency_key: str) -> str | None:
        with self._translate():
            found = as_bytes(await self._redis.hget(self._keys.idem(idempotency_key), "doc"))
        return None if found is None else found.decode()

    async def count_documents(self) -> int:
        with self._translate():
            return int(await self._redis.scard(self._keys.docs))

    async def list_documents(
        self, *, since: datetime | None = None, limit: int = 100, offset: int = 0
    ) -> list[DocumentMeta]:
        # The ids are a set: every meta is read and sorted here (an admin's listing).
        with self._translate():
            ids = await self._redis.smembers(self._keys.docs)
            pipe = self._redis.pipeline(transaction=False)
            for doc_id in ids:
                pipe.hget(self._keys.doc(as_text(doc_id)), "meta")
            texts = await pipe.execute()
        metas = [load_meta(t) for t in texts if t is not None]
        metas = [m for m in metas if since is None or m.received_at >= since]
        metas.sort(key=lambda m: (m.received_at, m.id), reverse=True)
        return metas[offset : offset + limit]
