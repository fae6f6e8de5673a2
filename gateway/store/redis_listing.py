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
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.model import ListingPage, ListingQuery
from gateway.store import _listing
from gateway.store._codec import to_micros
from gateway.store.redis_base import RedisBase, as_text

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


class RedisListing(RedisBase):
    def _listing_prefix(self) -> str:
        return f"{self._keys.prefix}:ls:"

    def _listing_doc(self, document_id: str) -> str:
        return f"{self._listing_prefix()}doc:{document_id}"

    def _listing_args(self, entry: _listing.Entry) -> list[str]:
        """The ARGV of list_new after the hash and events keys."""
        return [self._listing_prefix(), entry.recipient, entry.origin, entry.member]

    async def list_for_recipients(
        self, participants: Sequence[str], query: ListingQuery
    ) -> ListingPage:
        return await self._list("r", list(dict.fromkeys(participants)), query)

    async def list_for_origin(self, origin: str, query: ListingQuery) -> ListingPage:
        return await self._list("o", [origin] if origin else [], query)

    async def _list(self, way: str, values: list[str], query: ListingQuery) -> ListingPage:
        state = "*" if query.state is None else query.state.value
        cursor = query.cursor
        top = "+" if cursor is None else f"({_listing.member(cursor.micros, cursor.document_id)}"
        bottom = "-" if query.since is None else f"[{to_micros(query.since):020d}|"
        with self._translate():
            pipe = self._redis.pipeline(transaction=False)
            for value in values:
                key = f"{self._listing_prefix()}{way}:{state}:{value}"
                pipe.zrevrangebylex(key, top, bottom, start=0, num=query.limit + 1)
            found = [as_text(m) for members in await pipe.execute() for m in members]
            if not found:
                return ListingPage([], None)
            ids = [m.partition("|")[2] for m in found]
            pipe = self._redis.pipeline(transaction=False)
            for doc_id in ids:
                pipe.hget(self._keys.doc(doc_id), "meta")
                pipe.hget(self._listing_doc(doc_id), "s")
            fields = await pipe.execute()
        rows: list[tuple[int, str, str | bytes, str]] = []
        for n, (m, doc_id) in enumerate(zip(found, ids, strict=True)):
            meta, current = fields[2 * n], fields[2 * n + 1]
            if meta is not None:
                rows.append((int(m.partition("|")[0]), doc_id, meta, as_text(current or b"")))
        return _listing.page(rows, query)
