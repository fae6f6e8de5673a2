"""The settlement ledger in the shared store: per month, a hash of counts
and a set of the (document, way) pairs already counted."""

from __future__ import annotations

from gateway.model import Exchange, ExchangeCount
from gateway.store.redis_base import RedisBase, as_text

# KEYS: ledger set of "document|way" seen, ledger counts hash of the month;
# ARGV: "document|way", count field. Counted once per document and way.
RECORD = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
return 1
"""

_SEP = "\x1f"  # between the parts of a count's field: no peer or type holds it


class RedisLedger(RedisBase):
    async def record_exchange(self, exchange: Exchange) -> None:
        e = exchange
        field = _SEP.join((e.peer, e.agreement, e.way, e.document_type))
        keys = [self._keys.ledger_seen(e.month), self._keys.ledger(e.month)]
        await self._run(RECORD, keys, [f"{e.document_id}|{e.way}", field])

    async def exchanges(self, month: str) -> list[ExchangeCount]:
        with self._translate():
            raw = await self._redis.hgetall(self._keys.ledger(month))
        out = []
        for field, count in raw.items():
            peer, agreement, way, doctype = as_text(field).split(_SEP)
            out.append(ExchangeCount(peer, agreement, way, doctype, int(count)))
        return sorted(out, key=lambda c: (c.peer, c.agreement, c.way, c.document_type))
