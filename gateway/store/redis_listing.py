"""Listing documents by recipient and by sender in the shared store.

Each document has a small hash, ``{p}:ls:doc:{id}``: its recipient (r), its
sender token name (o, "" for inbound), its member (m: the zero-padded
received_at in µs, "|", the id) and its current state (s). The member sits
in sorted sets all scored 0, so they are ordered by (time, id) as text and a
page is one ZREVRANGEBYLEX:

* ``{p}:ls:r:*:{participant}``        every document addressed to it
* ``{p}:ls:r:{state}:{participant}``  those whose current state is that one
* ``{p}:ls:o:*:{origin}``, ``{p}:ls:o:{state}:{origin}``  likewise by sender

(states hold no ":", so no two of these names meet). The document scripts
carry the Lua below: ``LIST_NEW`` when a document is stored, ``RELIST``
wherever events are appended. The per-state set names are built inside the
script from the hash, since the state they leave is only known there.

A store written before the listing existed is indexed when a process opens
it (``{p}:ls:ready`` marks that done), as the embedded store migrates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any

import structlog

from gateway.model import ListingPage, ListingQuery, OutboxJob, State, StatusEvent
from gateway.store import _listing
from gateway.store._codec import dump_events, to_micros
from gateway.store.redis_base import RedisBase, as_text, job_json
from gateway.store.redis_feed import FEED_APPEND, feed_keys

log = structlog.get_logger("gateway.store")

# relist(ix, events): the document's hash of listing fields, its events list.
RELIST = """
local function relist(ix, events)
  local f = redis.call('HMGET', ix, 'p', 'r', 'o', 'm', 's')
  if not f[4] then return end
  local last = redis.call('LINDEX', events, -1)
  if not last then return end
  local state = cjson.decode(last)['state']
  if state == f[5] then return end
  local ways = {{'r:', f[2]}, {'o:', f[3]}}
  for _, way in ipairs(ways) do
    if way[2] ~= '' then
      redis.call('ZREM', f[1] .. way[1] .. f[5] .. ':' .. way[2], f[4])
      redis.call('ZADD', f[1] .. way[1] .. state .. ':' .. way[2], 0, f[4])
    end
  end
  redis.call('HSET', ix, 's', state)
end
"""

# list_new(ix, events, prefix, recipient, origin, member), after the
# document and its first events are written.
LIST_NEW = (
    RELIST
    + """
local function list_new(ix, events, p, r, o, m)
  redis.call('HSET', ix, 'p', p, 'r', r, 'o', o, 'm', m, 's', '')
  redis.call('ZADD', p .. 'r:*:' .. r, 0, m)
  if o ~= '' then redis.call('ZADD', p .. 'o:*:' .. o, 0, m) end
  relist(ix, events)
end
"""
)


# One page, read in one round trip: KEYS: the sorted sets to read (one per
# participant); ARGV: top, bottom (ZREVRANGEBYLEX bounds), how many from each,
# the prefix of document hashes, the prefix of listing hashes. Returns
# member, meta, state for each document found, flat.
LIST = """
local out = {}
for i = 1, #KEYS do
  local found = redis.call('ZREVRANGEBYLEX', KEYS[i], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
  for _, m in ipairs(found) do
    local id = string.sub(m, 22)  -- after the 20 digits of the time and "|"
    local meta = redis.call('HGET', ARGV[4] .. id, 'meta')
    if meta then
      out[#out + 1] = m
      out[#out + 1] = meta
      out[#out + 1] = redis.call('HGET', ARGV[5] .. id, 's') or ''
    end
  end
end
return out
"""


# A document stored before the listing existed: indexed unless it already is.
# KEYS: listing hash(doc), events(doc); ARGV: the four list_new arguments.
BACKFILL = (
    LIST_NEW
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
list_new(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
"""
)

# KEYS: events(doc), listing hash(doc), feed seq, feed (redis_feed), outbox, jobs;
# ARGV: doc id, event, job id ('' = none), job JSON, next_attempt_at, allowed states...
# Returns the current state before the append, or false for an unknown document.
APPEND_IF = (
    FEED_APPEND
    + RELIST
    + """
local current = redis.call('HGET', KEYS[2], 's')
if not current then return false end
if current == '' then current = 'received' end
for i = 6, #ARGV do
  if ARGV[i] == current then
    redis.call('RPUSH', KEYS[1], ARGV[2])
    relist(KEYS[2], KEYS[1])
    feed_append(KEYS[3], KEYS[4], ARGV[1], {ARGV[2]}, 1)
    if ARGV[3] ~= '' then
      redis.call('HSET', KEYS[6], ARGV[3], ARGV[4])
      redis.call('ZADD', KEYS[5], ARGV[5], ARGV[3])
    end
    break
  end
end
return current
"""
)


class RedisListing(RedisBase):
    async def open(self) -> None:
        await super().open()
        await self._backfill_listing()

    async def _backfill_listing(self) -> None:
        """Index the documents a store from before the listing holds, once:
        ``{p}:ls:ready`` marks it done (several processes may do it at once:
        each document is indexed once all the same)."""
        ready = f"{self._listing_prefix()}ready"
        with self._translate():
            if await self._redis.exists(ready):
                return
            ids = [as_text(i) for i in await self._redis.smembers(self._keys.docs)]
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            with self._translate():
                pipe = self._redis.pipeline(transaction=False)
                for doc_id in batch:
                    pipe.hget(self._keys.doc(doc_id), "meta")
                metas = await pipe.execute()
            await asyncio.gather(
                *(
                    self._run(
                        BACKFILL,
                        [self._listing_doc(doc_id), self._keys.events(doc_id)],
                        self._listing_args(_listing.entry_from_json(meta)),
                    )
                    for doc_id, meta in zip(batch, metas, strict=True)
                    if meta is not None
                )
            )
        if ids:
            log.info("store.listing_backfilled", documents=len(ids))
        with self._translate():
            await self._redis.set(ready, "1")

    def _listing_prefix(self) -> str:
        return f"{self._keys.prefix}:ls:"

    def _listing_doc(self, document_id: str) -> str:
        return f"{self._listing_prefix()}doc:{document_id}"  # "" gives the prefix

    def _listing_args(self, entry: _listing.Entry) -> list[str]:
        """The ARGV of list_new after the hash and events keys."""
        return [self._listing_prefix(), entry.recipient, entry.origin, entry.member]

    async def list_for_recipients(
        self, participants: Sequence[str], query: ListingQuery
    ) -> ListingPage:
        return await self._list("r", list(dict.fromkeys(participants)), query)

    async def append_if_current(
        self,
        document_id: str,
        event: StatusEvent,
        allowed: Collection[State],
        *,
        job: OutboxJob | None = None,
    ) -> State | None:
        keys = [self._keys.events(document_id), self._listing_doc(document_id)]
        keys += [*feed_keys(self._keys), self._keys.outbox, self._keys.jobs]
        queued: list[Any] = ["", "", 0]
        if job is not None:
            queued = [job.id, job_json(job), to_micros(job.next_attempt_at)]
        args = [document_id, *dump_events([event]), *queued, *(s.value for s in allowed)]
        current = await self._run(APPEND_IF, keys, args)
        return None if current is None else State(as_text(current))

    async def list_for_origin(self, origin: str, query: ListingQuery) -> ListingPage:
        return await self._list("o", [origin] if origin else [], query)

    async def _list(self, way: str, values: list[str], query: ListingQuery) -> ListingPage:
        if not values:
            return ListingPage([], None)
        state = "*" if query.state is None else query.state.value
        cursor = query.cursor
        top = "+" if cursor is None else f"({_listing.member(cursor.micros, cursor.document_id)}"
        bottom = "-" if query.since is None else f"[{to_micros(query.since):020d}|"
        keys = [f"{self._listing_prefix()}{way}:{state}:{value}" for value in values]
        args = [top, bottom, query.limit + 1, f"{self._keys.prefix}:doc:", self._listing_doc("")]
        flat = await self._run(LIST, keys, args)
        rows: list[tuple[int, str, str | bytes, str]] = []
        for n in range(0, len(flat), 3):
            at, _, doc_id = as_text(flat[n]).partition("|")
            rows.append((int(at), doc_id, flat[n + 1], as_text(flat[n + 2])))
        return _listing.page(rows, query)
