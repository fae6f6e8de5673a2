"""The event feed of the shared store. ``FEED_APPEND`` is a Lua function put
in front of every script that appends status events (redis_documents,
redis_outbox), so an event and its feed entry are written by one script."""

from __future__ import annotations

from typing import Any

from gateway.model import State
from gateway.model.webhooks import FeedEntry
from gateway.store.redis_base import Keys, RedisBase, as_text

# feed_append(seq key, feed key, document id, events table, first index):
# numbers the events events[first..] of one document in the feed.
FEED_APPEND = """
local function feed_append(seq_key, feed_key, doc, events, first)
  for i = first, #events do
    local n = redis.call('INCR', seq_key)
    local state = cjson.decode(events[i])['state']
    redis.call('ZADD', feed_key, n, string.format('%d', n) .. '\\31' .. doc .. '\\31' .. state)
  end
end
"""


def feed_keys(keys: Keys) -> list[str]:
    """The two keys a script that appends events must declare for the feed."""
    return [keys.feed_seq, keys.feed]


class RedisFeed(RedisBase):
    async def feed_after(self, cursor: int, limit: int) -> list[FeedEntry]:
        if limit <= 0:
            return []
        with self._translate():
            items: list[Any] = await self._redis.zrangebyscore(
                self._keys.feed, f"({cursor}", "+inf", start=0, num=limit
            )
        out = []
        for item in items:
            n, rest = as_text(item).split("\x1f", 1)
            doc, state = rest.rsplit("\x1f", 1)
            out.append(FeedEntry(int(n), doc, State(state)))
        return out
