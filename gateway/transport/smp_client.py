"""Asking a peer network's SMP where one of its participants receives a
document type, with answers cached in the store for a while.

Every outcome is a value (``gateway.directory.smp``): ``Found``; ``NotRegistered``
when the SMP says so (HTTP 404, or signed metadata without an AS4 endpoint),
which is final and never retried; ``LookupFailed`` for everything that
only means "could not ask" (timeout, refused connection, 5xx, a bad or
untrusted signature, an unreadable answer), which the caller retries.
Only the first two are cached: a failure must not stick.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import structlog
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from yarl import URL

from gateway.config.settings import Peer, Settings
from gateway.directory.smp import (
    SMP_LIMITS,
    Endpoint,
    Found,
    LookupFailed,
    LookupResult,
    NoService,
    NotRegistered,
    parse_signed_service_metadata,
)
from gateway.directory.smp_names import SMP_PATH, service_url
from gateway.errors import GatewayError
from gateway.model import ParticipantId
from gateway.pki.certificates import check_peer_certificate
from gateway.transport.credentials import PinnedCertificates, load_trust_anchors

log = structlog.get_logger("gateway.transport.smp_client")


class LookupCache(Protocol):
    """The part of the store's cache the client uses (a TTL key-value)."""

    async def cache_put(
        self, key: str, value: bytes, ttl_seconds: int, *, now: datetime
    ) -> None: ...

    async def cache_get(self, key: str, *, now: datetime) -> bytes | None: ...


def smp_base(peer: Peer) -> str:
    """The SMP base URL of a peer: ``peers[].smp_url``, else its endpoint's
    origin with the path ``/smp`` (where a gateway like ours publishes)."""
    if peer.smp_url:
        return peer.smp_url.rstrip("/")
    u = urlsplit(peer.endpoint)
    return urlunsplit((u.scheme, u.netloc, SMP_PATH, "", ""))


class SmpClient:
    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache: LookupCache | None = None,
        ttl_seconds: int = 3600,
        not_registered_ttl_seconds: int = 600,
    ) -> None:
        self._cas = load_trust_anchors(settings.network.ca_certificates)
        self._pins = PinnedCertificates()
        self._timeout = aiohttp.ClientTimeout(
            total=timeout if timeout is not None else settings.delivery.timeout_seconds
        )
        self._clock = clock
        self._cache = cache
        self._ttl = ttl_seconds
        # Shorter: a participant who registers tomorrow should be found soon.
        self._negative_ttl = not_registered_ttl_seconds
        self._session: aiohttp.ClientSession | None = None

    async def lookup(self, peer: Peer, pid: ParticipantId, doctype: str) -> LookupResult:
        now = self._clock()
        key = cache_key(peer, pid, doctype)
        cached = await self._cached(key, now)
        if cached is not None:
            return in_service(cached, now)
        result = await self._ask(peer, pid, doctype)
        if not isinstance(result, LookupFailed):
            await self._remember(key, result, now)
        return in_service(result, now)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- asking ---

    async def _ask(self, peer: Peer, pid: ParticipantId, doctype: str) -> LookupResult:
        url = service_url(smp_base(peer), pid, doctype)
        try:
            status, body = await self._get(url)
        except TimeoutError:
            return self._failed(peer, f"no answer within {self._timeout.total} s from {url}")
        except aiohttp.ClientError as exc:
            return self._failed(peer, f"cannot reach {url}: {exc or type(exc).__name__}")
        if status in (404, 410):
            # The SMP's own word: no such participant, or not for this document type.
            return NotRegistered(
                f"{pid} is not registered for {doctype} in network {peer.name} "
                f"(its SMP answered HTTP {status})"
            )
        if status != 200:
            return self._failed(peer, f"SMP answered HTTP {status} for {url}")
        return self._read(peer, pid, doctype, body)

    async def _get(self, url: str) -> tuple[int, bytes]:
        if self._session is None:  # created on first use: aiohttp wants a running loop
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        # encoded=True: the percent-encoding of ":" and "#" is sent as built,
        # not normalised by yarl.
        async with self._session.get(URL(url, encoded=True), allow_redirects=False) as resp:
            return resp.status, await _read_capped(resp, SMP_LIMITS.max_document_bytes)

    def _read(self, peer: Peer, pid: ParticipantId, doctype: str, body: bytes) -> LookupResult:
        try:
            endpoint = parse_signed_service_metadata(
                body, trust=lambda cert: self._trust(peer, cert)
            )
            # The access point's own certificate must be one we would accept
            # a message from, or delivery would fail later for less clear reasons.
            self._trust(peer, endpoint.certificate)
        except NoService as exc:
            return NotRegistered(f"network {peer.name}: {exc.message}")
        except GatewayError as exc:
            return self._failed(peer, f"answer refused: {exc.message}")
        if endpoint.participant != pid or endpoint.document_type != doctype:
            # Validly signed but about something else: a replayed answer, or a broken SMP.
            return self._failed(
                peer,
                f"answer is about {endpoint.participant} / {endpoint.document_type}, "
                f"not {pid} / {doctype}",
            )
        return Found(endpoint)

    def _trust(self, peer: Peer, cert: x509.Certificate) -> None:
        check_peer_certificate(
            cert,
            pinned=self._pins.get(peer),
            cas=self._cas,
            expected_cn=peer.provider_id,
            now=self._clock(),
        )

    def _failed(self, peer: Peer, reason: str) -> LookupFailed:
        log.info("smp.lookup_failed", peer=peer.name, reason=reason)
        return LookupFailed(f"lookup in network {peer.name} failed: {reason}")

    # --- caching ---

    async def _cached(self, key: str, now: datetime) -> Found | NotRegistered | None:
        if self._cache is None:
            return None
        try:
            raw = await self._cache.cache_get(key, now=now)
        except Exception as exc:  # the cache only saves time; never fail a lookup for it
            log.warning("smp.cache_unavailable", error=str(exc))
            return None
        return decode_result(raw) if raw is not None else None

    async def _remember(self, key: str, result: Found | NotRegistered, now: datetime) -> None:
        if self._cache is None:
            return
        ttl = self._ttl if isinstance(result, Found) else self._negative_ttl
        if isinstance(result, Found):
            ttl = min(ttl, _seconds_left(result.endpoint, now))
        if ttl <= 0:
            return
        try:
            await self._cache.cache_put(key, encode_result(result), ttl, now=now)
        except Exception as exc:  # as above: a lookup that worked stays a success
            log.warning("smp.cache_unavailable", error=str(exc))


def in_service(result: LookupResult, now: datetime) -> LookupResult:
    """Judge a found endpoint's dates at ``now`` (SMP: senders ignore services
    not yet active or expired). A later activation is worth a retry; an expiry is not."""
    if not isinstance(result, Found):
        return result
    ep = result.endpoint
    if ep.activation is not None and now < ep.activation:
        return LookupFailed(f"the service of {ep.participant} starts at {ep.activation}")
    if ep.expiration is not None and now >= ep.expiration:
        return NotRegistered(f"the service of {ep.participant} expired at {ep.expiration}")
    return result


def _seconds_left(ep: Endpoint, now: datetime) -> int:
    """A cached endpoint must not outlive its service or its certificate."""
    ends = [ep.certificate.not_valid_after_utc] + ([ep.expiration] if ep.expiration else [])
    return int((min(ends) - now).total_seconds())


def cache_key(peer: Peer, pid: ParticipantId, doctype: str) -> str:
    # The SMP base is part of the key so that a changed peer URL is asked afresh.
    digest = hashlib.sha256("\n".join((smp_base(peer), pid.uri, doctype)).encode()).hexdigest()
    return f"smp:{peer.name}:{digest[:40]}"


# --- the cached form -------------------------------------------------------


def encode_result(result: Found | NotRegistered) -> bytes:
    if isinstance(result, NotRegistered):
        return json.dumps({"kind": "not_registered", "reason": result.reason}).encode()
    ep = result.endpoint
    doc: dict[str, Any] = {
        "kind": "found",
        "participant": str(ep.participant),
        "document_type": ep.document_type,
        "process": ep.process,
        "transport_profile": ep.transport_profile,
        "url": ep.url,
        "certificate": base64.b64encode(ep.certificate.public_bytes(Encoding.DER)).decode(),
        "activation": ep.activation.isoformat() if ep.activation else None,
        "expiration": ep.expiration.isoformat() if ep.expiration else None,
    }
    return json.dumps(doc, sort_keys=True).encode()


def decode_result(raw: bytes) -> Found | NotRegistered | None:
    """The cached result, or None for an entry that cannot be read (asked afresh)."""
    try:
        doc = json.loads(raw)
        if doc["kind"] == "not_registered":
            return NotRegistered(str(doc["reason"]))
        if doc["kind"] != "found":
            return None
        return Found(
            Endpoint(
                participant=ParticipantId.parse(doc["participant"]),
                document_type=doc["document_type"],
                process=doc["process"],
                transport_profile=doc["transport_profile"],
                url=doc["url"],
                certificate=x509.load_der_x509_certificate(base64.b64decode(doc["certificate"])),
                activation=_time(doc["activation"]),
                expiration=_time(doc["expiration"]),
            )
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("smp.cache_entry_unreadable", error=str(exc))
        return None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise aiohttp.ClientPayloadError(f"answer larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
