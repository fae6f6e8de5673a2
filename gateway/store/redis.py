"""The shared store: Redis, for several gateway processes at once.

Every write that touches more than one key is a Lua script (see
_redis_scripts), so it runs atomically with respect to every other process
on the same Redis, and writes nothing when one of its checks fails. Scripts
are not retried on a dropped connection (a retry could run a write
twice); the error surfaces as StoreError and the caller decides.

Layout (all key names come from _Keys):

* ``{p}:docs``            set of document ids (count, duplicate check)
* ``{p}:doc:{id}``        hash: meta (JSON), payload (bytes)
* ``{p}:events:{id}``     list of status events (JSON), in append order
* ``{p}:blobs:{id}``      hash: name -> bytes
* ``{p}:idem:{key}``      hash: doc, fp
* ``{p}:outbox``          sorted set: job id -> next_attempt_at (epoch µs)
* ``{p}:jobs``            hash: job id -> JSON {doc, created, attempts}
* ``{p}:leases``          sorted set: job id -> lease_until (epoch µs)
* ``{p}:owners``          hash: job id -> lease owner
* ``{p}:partners``        hash: partner id -> record (_codec.dump_partner)
* ``{p}:partner_ids``     sorted set of partner ids, all scored 0: ordered by id
* ``{p}:heartbeat``       string: time of the last write probe (/healthz)
* ``{p}:cache:{key}``     string: "<expires_at µs>:" + value, with a Redis expiry
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from gateway.errors import StoreError
from gateway.model import (
    AcceptResult,
    DocumentMeta,
    Exchange,
    ExchangeCount,
    OutboxJob,
    Partner,
    StatusEvent,
)
from gateway.store import _redis_scripts as scripts
from gateway.store._codec import (
    dump_events,
    dump_meta,
    dump_partner,
    expiry_micros,
    from_micros,
    load_event,
    load_meta,
    load_partner,
    span_micros,
    to_micros,
)
from gateway.store.base import accept_keys

_MAX_CONNECTIONS = 64
_POOL_WAIT_SECONDS = 20.0
_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_TIMEOUT_SECONDS = 5.0
# Cache entries expire by the caller's clock (the stored expires_at); Redis's
# own expiry, this much later, only reclaims the memory.
_CACHE_GRACE_MS = 60_000


class _Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.docs = f"{prefix}:docs"
        self.outbox = f"{prefix}:outbox"
        self.jobs = f"{prefix}:jobs"
        self.leases = f"{prefix}:leases"
        self.owners = f"{prefix}:owners"
        self.partners = f"{prefix}:partners"
        self.partner_ids = f"{prefix}:partner_ids"
        self.heartbeat = f"{prefix}:heartbeat"

    def doc(self, document_id: str) -> str:
        return f"{self.prefix}:doc:{document_id}"

    def ledger_seen(self, month: str) -> str:
        return f"{self.prefix}:ledger:{month}:seen"

    def ledger(self, month: str) -> str:
        return f"{self.prefix}:ledger:{month}"

    def events(self, document_id: str) -> str:
        return f"{self.prefix}:events:{document_id}"

    def blobs(self, document_id: str) -> str:
        return f"{self.prefix}:blobs:{document_id}"

    def idem(self, key: str) -> str:
        return f"{self.prefix}:idem:{key}"

    def cache(self, key: str) -> str:
        return f"{self.prefix}:cache:{key}"


def _describe(url: str) -> str:
    """The URL without credentials, to name the store in messages."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    where = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{where}{port}{parts.path}"


def _bytes(value: bytes | str | None) -> bytes | None:
    # The client is made with decode_responses=False; its stubs do not know.
    return value.encode() if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _job_json(job: OutboxJob) -> str:
    return json.dumps(
        {"doc": job.document_id, "created": to_micros(job.created_at), "attempts": job.attempts}
    )


def _job(job_id: bytes, score: bytes, data: bytes) -> OutboxJob:
    fields = json.loads(data)
    return OutboxJob(
        id=job_id.decode(),
        document_id=fields["doc"],
        created_at=from_micros(fields["created"]),
        next_attempt_at=from_micros(int(float(score))),
        attempts=fields["attempts"],
    )


class RedisStore:
    def __init__(
        self, url: str, *, prefix: str = "gw", timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._keys = _Keys(prefix)
        self._label = f"redis store {_describe(url)} (prefix {prefix!r})"
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    # -- lifecycle ---------------------------------------------------------

    async def open(self) -> None:
        if self._client is not None:
            return
        pool = BlockingConnectionPool.from_url(
            self._url,
            # Callers beyond the pool size wait for a connection instead of
            # failing (the default pool raises "Too many connections").
            max_connections=_MAX_CONNECTIONS,
            timeout=_POOL_WAIT_SECONDS,
            decode_responses=False,
            # No automatic retries: a write script resent after a dropped
            # connection may already have run once.
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=min(_CONNECT_TIMEOUT_SECONDS, self._timeout),
            # A hung server becomes a StoreError soon, not after the client
            # gave up: the caller can then say which document id to look for.
            socket_timeout=self._timeout,
        )
        client = Redis.from_pool(pool)
        with self._translate():
            try:
                await client.ping()
            except BaseException:
                await client.aclose()
                raise
        self._client = client
        sources = {
            "accept": scripts.ACCEPT,
            "claim": scripts.CLAIM,
            "append": scripts.APPEND,
            "finish": scripts.FINISH,
            "retry": scripts.RETRY,
            "blob": scripts.PUT_BLOB,
            "release": scripts.RELEASE,
            "record": scripts.RECORD,
        }
        self._scripts = {name: client.register_script(src) for name, src in sources.items()}

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- plumbing ----------------------------------------------------------

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except (RedisError, OSError) as exc:
            # The message names the store and the failure, never the data sent.
            raise StoreError(f"{self._label}: {type(exc).__name__}: {exc}"[:500]) from exc

    @property
    def _redis(self) -> Redis:
        if self._client is None:
            raise StoreError(f"{self._label} is not open")
        return self._client

    async def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        redis = self._redis
        with self._translate():
            return await self._scripts[script](keys=keys, args=args, client=redis)

    def _refused(self, what: str) -> StoreError:
        return StoreError(f"{self._label}: {what}")

    # -- documents ---------------------------------------------------------

    async def accept(
        self,
        meta: DocumentMeta,
        payload: bytes,
        events: Sequence[StatusEvent],
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
        job: OutboxJob | None = None,
        keys: Sequence[str] = (),
    ) -> AcceptResult:
        if job is not None and job.document_id != meta.id:
            raise ValueError(f"job {job.id!r} is for document {job.document_id!r}, not {meta.id!r}")
        k = self._keys
        claims = accept_keys(idempotency_key, keys)
        script_keys = [k.docs, k.doc(meta.id), k.events(meta.id), k.outbox, k.jobs]
        script_keys += [k.idem(key) for key in claims]
        job_args: list[Any] = ["", "", 0]
        if job is not None:
            job_args = [job.id, _job_json(job), to_micros(job.next_attempt_at)]
        args: list[Any] = [meta.id, fingerprint, dump_meta(meta), payload, *job_args]
        args += dump_events(events)
        outcome, document_id, matches, index = await self._run("accept", script_keys, args)
        if outcome == b"err":
            raise self._refused(document_id.decode())
        if outcome == b"dup":
            key = claims[int(index) - 6]  # Lua counts KEYS from 1; claims start at KEYS[6]
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
            return _bytes(await self._redis.hget(self._keys.doc(document_id), "payload"))

    async def history(self, document_id: str) -> list[StatusEvent]:
        with self._translate():
            items = await self._redis.lrange(self._keys.events(document_id), 0, -1)
        return [load_event(item) for item in items]

    async def append_events(self, document_id: str, events: Sequence[StatusEvent]) -> None:
        keys = [self._keys.docs, self._keys.events(document_id)]
        if not await self._run("append", keys, [document_id, *dump_events(events)]):
            raise self._refused(f"no document {document_id!r}")

    async def put_blob(self, document_id: str, name: str, data: bytes) -> None:
        keys = [self._keys.docs, self._keys.blobs(document_id)]
        if not await self._run("blob", keys, [document_id, name, data]):
            raise self._refused(f"no document {document_id!r}")

    async def get_blob(self, document_id: str, name: str) -> bytes | None:
        with self._translate():
            return _bytes(await self._redis.hget(self._keys.blobs(document_id), name))

    async def find_by_key(self, idempotency_key: str) -> str | None:
        with self._translate():
            found = _bytes(await self._redis.hget(self._keys.idem(idempotency_key), "doc"))
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
                pipe.hget(self._keys.doc(_text(doc_id)), "meta")
            texts = await pipe.execute()
        metas = [load_meta(t) for t in texts if t is not None]
        metas = [m for m in metas if since is None or m.received_at >= since]
        metas.sort(key=lambda m: (m.received_at, m.id), reverse=True)
        return metas[offset : offset + limit]

    async def probe_write(self, now: datetime, *, room: int = 0) -> None:
        # A plain SET fails as a document write would: over maxmemory
        # (noeviction), on a read-only replica, after a failed RDB save.
        with self._translate():
            await self._redis.set(self._keys.heartbeat, to_micros(now))

    # -- outbox ------------------------------------------------------------

    def _job_keys(self, document_id: str) -> list[str]:
        k = self._keys
        return [k.docs, k.events(document_id), k.outbox, k.leases, k.owners, k.jobs]

    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta, owner: str
    ) -> list[OutboxJob]:
        if limit <= 0:
            return []
        at = to_micros(now)
        k = self._keys
        keys = [k.outbox, k.leases, k.owners, k.jobs]
        flat = await self._run("claim", keys, [at, limit, at + span_micros(lease), owner])
        return [_job(*flat[i : i + 3]) for i in range(0, len(flat), 3)]

    async def finish_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        args = [job.document_id, job.id, owner or "", *dump_events(events)]
        outcome = await self._run("finish", self._job_keys(job.document_id), args)
        if not outcome:
            raise self._refused(f"no document {job.document_id!r}")
        return int(outcome) == 1

    async def retry_job(
        self, job: OutboxJob, events: Sequence[StatusEvent], *, owner: str | None = None
    ) -> bool:
        args: list[Any] = [job.document_id, job.id, _job_json(job)]
        args += [to_micros(job.next_attempt_at), owner or "", *dump_events(events)]
        outcome = await self._run("retry", self._job_keys(job.document_id), args)
        if not outcome:
            raise self._refused(f"no document {job.document_id!r}")
        return int(outcome) == 1

    async def release_leases(self, owner: str | None = None) -> int:
        keys = [self._keys.leases, self._keys.owners]
        args = ["1", ""] if owner is None else ["0", owner]
        return int(await self._run("release", keys, args))

    async def outbox_depth(self) -> int:
        with self._translate():
            return int(await self._redis.zcard(self._keys.outbox))

    async def next_due(self) -> datetime | None:
        with self._translate():
            first = await self._redis.zrange(self._keys.outbox, 0, 0, withscores=True)
        return from_micros(int(first[0][1])) if first else None

    # -- partner directory -------------------------------------------------

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
            record = _bytes(await self._redis.hget(self._keys.partners, pid))
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
            load_partner(_text(pid), _text(record))
            for pid, record in zip(ids, records, strict=True)
            if record is not None
        ]

    async def count_partners(self) -> int:
        with self._translate():
            return int(await self._redis.hlen(self._keys.partners))

    # -- look-up cache -----------------------------------------------------

    async def cache_put(self, key: str, value: bytes, ttl_seconds: float, *, now: datetime) -> None:
        until = expiry_micros(now, ttl_seconds)
        keep_ms = (until - to_micros(now)) // 1000 + _CACHE_GRACE_MS
        with self._translate():
            await self._redis.set(self._keys.cache(key), b"%d:" % until + value, px=keep_ms)

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None:
        with self._translate():
            stored = _bytes(await self._redis.get(self._keys.cache(key)))
        if stored is None:
            return None
        until, _, value = stored.partition(b":")
        return value if int(until) > to_micros(now) else None

    # -- settlement ledger -------------------------------------------------

    async def record_exchange(self, exchange: Exchange) -> None:
        e = exchange
        field = "\x1f".join((e.peer, e.agreement, e.way, e.document_type))
        keys = [self._keys.ledger_seen(e.month), self._keys.ledger(e.month)]
        await self._run("record", keys, [f"{e.document_id}|{e.way}", field])

    async def exchanges(self, month: str) -> list[ExchangeCount]:
        with self._translate():
            raw = await self._redis.hgetall(self._keys.ledger(month))
        out = []
        for field, count in raw.items():
            peer, agreement, way, doctype = _text(field).split("\x1f")
            out.append(ExchangeCount(peer, agreement, way, doctype, int(count)))
        return sorted(out, key=lambda c: (c.peer, c.agreement, c.way, c.document_type))
