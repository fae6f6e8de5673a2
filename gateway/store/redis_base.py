"""The shared store's plumbing: Redis, for several gateway processes at once,
opened and closed here and used by the concern mixins (redis_*.py).

Every write that touches more than one key is a Lua script, kept beside the
concern it serves, so it runs atomically with respect to every other process
on the same Redis, and writes nothing when one of its checks fails. Scripts
are not retried on a dropped connection (a retry could run a write
twice); the error surfaces as StoreError and the caller decides.

Layout (all key names come from Keys, in one place, so no two concerns meet):

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
* ``{p}:ledger:{month}``  hash: "peer␟agreement␟way␟type" -> documents
* ``{p}:ledger:{month}:seen``  set of "document|way" already counted
* ``{p}:feed:seq``        string: the last feed cursor handed out
* ``{p}:feed``            sorted set: "cursor␟doc␟state" scored by cursor
* ``{p}:wh:subs``         hash: webhook owner -> JSON {url, secret (base64), created}
* ``{p}:wh:cursor``       string: how far the webhook relay read the feed
* ``{p}:wh:deliveries``   hash: delivery id -> JSON (redis_webhooks)
* ``{p}:wh:order``        sorted set: delivery id -> queued order (listing)
* ``{p}:wh:due``          sorted set: pending delivery id -> next_attempt_at (epoch µs)
* ``{p}:wh:leases``       sorted set: delivery id -> lease_until (epoch µs)
* ``{p}:wh:owners``       hash: delivery id -> lease owner
* ``{p}:wh:attempts:{id}`` list of attempts (JSON), oldest first
* ``{p}:rcpt:accounts``   hash: recipient account name -> record (JSON)
* ``{p}:rcpt:tokens``     hash: token SHA-256 -> account name
* ``{p}:rcpt:reads``      hash: participant id -> live accounts reading it
* ``{p}:portal:session:{sha256}``  string: a portal session (JSON), with a Redis expiry
* ``{p}:portal:nonce:{nonce}``     string: a used sign-in link, kept until the link expires
* ``{p}:portal:choices:{pid}``     list: a company's reception choices (JSON), newest first
* ``{p}:ls:...``          listing by recipient and sender (see redis_listing)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from gateway.errors import StoreError
from gateway.model import OutboxJob
from gateway.store._codec import to_micros

_MAX_CONNECTIONS = 64
_POOL_WAIT_SECONDS = 20.0
_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_TIMEOUT_SECONDS = 5.0


class Keys:
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
        self.feed_seq = f"{prefix}:feed:seq"
        self.feed = f"{prefix}:feed"
        self.wh_subs = f"{prefix}:wh:subs"
        self.wh_cursor = f"{prefix}:wh:cursor"
        self.wh_deliveries = f"{prefix}:wh:deliveries"
        self.wh_order = f"{prefix}:wh:order"
        self.wh_due = f"{prefix}:wh:due"
        self.wh_leases = f"{prefix}:wh:leases"
        self.wh_owners = f"{prefix}:wh:owners"
        self.accounts = f"{prefix}:rcpt:accounts"
        self.account_tokens = f"{prefix}:rcpt:tokens"
        self.account_reads = f"{prefix}:rcpt:reads"

    def portal_session(self, id_sha256: str) -> str:
        return f"{self.prefix}:portal:session:{id_sha256}"

    def portal_nonce(self, nonce: str) -> str:
        return f"{self.prefix}:portal:nonce:{nonce}"

    def portal_choices(self, participant: str) -> str:
        return f"{self.prefix}:portal:choices:{participant}"

    def wh_attempts(self, delivery_id: str) -> str:
        return f"{self.prefix}:wh:attempts:{delivery_id}"

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


def as_bytes(value: bytes | str | None) -> bytes | None:
    # The client is made with decode_responses=False; its stubs do not know.
    return value.encode() if isinstance(value, str) else value


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisBase:
    """Lifecycle, health and the plumbing the concerns share."""

    def __init__(
        self, url: str, *, prefix: str = "gw", timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._keys = Keys(prefix)
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
        self._scripts = {}

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def probe_write(self, now: datetime, *, room: int = 0) -> None:
        # A plain SET fails as a document write would: over maxmemory
        # (noeviction), on a read-only replica, after a failed RDB save.
        with self._translate():
            await self._redis.set(self._keys.heartbeat, to_micros(now))

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
        """Run a Lua script (its source), loading it on first use."""
        redis = self._redis
        registered = self._scripts.get(script)
        if registered is None:
            # Only hashes the source: the script is sent by EVALSHA, or EVAL once.
            registered = self._scripts[script] = redis.register_script(script)
        with self._translate():
            return await registered(keys=keys, args=args, client=redis)

    def _refused(self, what: str) -> StoreError:
        return StoreError(f"{self._label}: {what}")


def job_json(job: OutboxJob) -> str:
    """A job as kept in the jobs hash (its due time is its outbox score)."""
    return json.dumps(
        {"doc": job.document_id, "created": to_micros(job.created_at), "attempts": job.attempts}
    )
