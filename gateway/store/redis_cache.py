"""The look-up cache in the shared store: one string a key, holding its
expiry time (by the caller's clock) before the value."""

from __future__ import annotations

from datetime import datetime

from gateway.store._codec import expiry_micros, to_micros
from gateway.store.redis_base import RedisBase, as_bytes

# Entries expire by the caller's clock (the stored expires_at); Redis's own
# expiry, this much later, only reclaims the memory.
_GRACE_MS = 60_000


class RedisCache(RedisBase):
    async def cache_put(self, key: str, value: bytes, ttl_seconds: float, *, now: datetime) -> None:
        until = expiry_micros(now, ttl_seconds)
        keep_ms = (until - to_micros(now)) // 1000 + _GRACE_MS
        with self._translate():
            await self._redis.set(self._keys.cache(key), b"%d:" % until + value, px=keep_ms)

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None:
        with self._translate():
            stored = as_bytes(await self._redis.get(self._keys.cache(key)))
        if stored is None:
            return None
        until, _, value = stored.partition(b":")
        return value if int(until) > to_micros(now) else None
