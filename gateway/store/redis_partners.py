"""The partner directory in the shared store: a hash of records by id, and
a sorted set of the ids for paging in id order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from redis.typing import EncodableT, FieldT

from gateway.model import Partner
from gateway.store._codec import dump_partner, load_partner
from gateway.store.redis_base import RedisBase, as_bytes, as_text


class RedisPartners(RedisBase):
    async def put_partners(self, partners: Sequence[Partner]) -> None:
        if not partners:
            return
        # A dict: the last occurrence of an id wins, as in a sequence of upserts.
        records = {p.id: dump_partner(p) for p in partners}
        k = self._keys
        with self._translate():
            # MULTI/EXEC: other clients see all of the batch or none of it.
            async with self._redis.pipeline(transaction=True) as pipe:
                # cast: the stubs' Mapping is invariant in its key type.
                pipe.hset(k.partners, mapping=cast(Mapping[FieldT, EncodableT], records))
                pipe.zadd(k.partner_ids, dict.fromkeys(records, 0))
                await pipe.execute()

    async def get_partner(self, pid: str) -> Partner | None:
        with self._translate():
            record = as_bytes(await self._redis.hget(self._keys.partners, pid))
        return None if record is None else load_partner(pid, record.decode())

    async def list_partners(self, *, after: str = "", limit: int = 100) -> list[Partner]:
        if limit <= 0:
            return []
        k = self._keys
        start = b"(" + after.encode() if after else b"-"
        with self._translate():
            ids = await self._redis.zrangebylex(k.partner_ids, start, b"+", start=0, num=limit)
            if not ids:
                return []
            records = await self._redis.hmget(k.partners, ids)
        # Partners are never removed, so every listed id has its record.
        return [
            load_partner(as_text(pid), as_text(record))
            for pid, record in zip(ids, records, strict=True)
            if record is not None
        ]

    async def count_partners(self) -> int:
        with self._translate():
            return int(await self._redis.hlen(self._keys.partners))
