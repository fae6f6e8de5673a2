"""The recipient portal in the shared store (key layout in redis_base): a
string per session and per used link nonce, each with a Redis expiry, and a
list per company of its reception choices, newest first. Each write touches
one key, so none needs a script; SET NX makes "use a nonce once" atomic."""

from __future__ import annotations

import json
from datetime import datetime

from gateway.model.portal import PortalChoice, PortalSession
from gateway.store._codec import from_micros, to_micros
from gateway.store.redis_base import RedisBase

_HISTORY = 200  # choices kept per company: a small history is enough


def _ms_until(until: datetime, now: datetime) -> int:
    return max(1, (to_micros(until) - to_micros(now)) // 1000)


class RedisPortal(RedisBase):
    async def put_portal_session(self, session: PortalSession) -> None:
        record = json.dumps(
            {
                "participant": session.participant,
                "created_at": to_micros(session.created_at),
                "expires_at": to_micros(session.expires_at),
            }
        )
        keep = _ms_until(session.expires_at, session.created_at)
        with self._translate():
            await self._redis.set(self._keys.portal_session(session.id_sha256), record, px=keep)

    async def portal_session(self, id_sha256: str, *, now: datetime) -> PortalSession | None:
        with self._translate():
            text = await self._redis.get(self._keys.portal_session(id_sha256))
        if text is None:
            return None
        data = json.loads(text)
        if data["expires_at"] <= to_micros(now):  # by the caller's clock, as the SQLite store
            return None
        return PortalSession(
            id_sha256,
            data["participant"],
            from_micros(data["created_at"]),
            from_micros(data["expires_at"]),
        )

    async def delete_portal_session(self, id_sha256: str) -> bool:
        with self._translate():
            return bool(await self._redis.delete(self._keys.portal_session(id_sha256)))

    async def use_link_nonce(self, nonce: str, *, expires_at: datetime, now: datetime) -> bool:
        with self._translate():
            done = await self._redis.set(
                self._keys.portal_nonce(nonce), b"1", nx=True, px=_ms_until(expires_at, now)
            )
        return bool(done)

    async def put_portal_choice(self, choice: PortalChoice) -> None:
        key = self._keys.portal_choices(choice.participant)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(choice.to_json()))
            pipe.ltrim(key, 0, _HISTORY - 1)
            with self._translate():
                await pipe.execute()

    async def portal_choice(self, participant: str) -> PortalChoice | None:
        found = await self.portal_choices(participant, limit=1)
        return found[0] if found else None

    async def portal_choices(self, participant: str, *, limit: int = 20) -> list[PortalChoice]:
        if limit <= 0:
            return []
        with self._translate():
            texts = await self._redis.lrange(self._keys.portal_choices(participant), 0, limit - 1)
        return [PortalChoice.from_json(json.loads(text)) for text in texts]
