"""Sending side of the stand-in exchange: ``HttpTransport`` POSTs a signed
request to a peer's endpoint and returns its verified receipt.

Also home of the small file readers for our key, certificate, trust anchors
and peers' pinned certificates, which the server side shares (certs.py
stays free of file I/O).

Payloads are never logged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import structlog
from cryptography import x509

from gateway.certs import KeyPair, check_peer_certificate, load_certificates, load_key_pair
from gateway.config import NetworkSettings, Peer, Settings
from gateway.errors import GatewayError, SecurityError, TransportError
from gateway.transport.base import OutboundMessage, Receipt
from gateway.transport.exchange import (
    build_request,
    parse_error,
    sha256_hex,
    signer_certificate,
    verify_receipt,
)

log = structlog.get_logger("gateway.transport.client")

# A receipt or error answer is a few kilobytes; anything far larger is not one.
MAX_ANSWER_BYTES = 1024 * 1024


# --- credentials from files ------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SecurityError(f"{path}: cannot read ({exc.strerror})") from None


def load_identity(network: NetworkSettings) -> KeyPair:
    """Our key and certificate, checked to belong together."""
    return load_key_pair(
        _read(network.key),
        _read(network.certificate),
        key_source=str(network.key),
        cert_source=str(network.certificate),
    )


def load_trust_anchors(paths: Iterable[Path]) -> list[x509.Certificate]:
    """The CA certificates we accept peers' certificates from."""
    return [cert for p in paths for cert in load_certificates(_read(p), source=str(p))]


class PinnedCertificates:
    """Peers' pinned certificates, each file read once."""

    def __init__(self) -> None:
        self._cache: dict[Path, x509.Certificate] = {}

    def get(self, peer: Peer) -> x509.Certificate | None:
        if peer.certificate is None:
            return None
        cert = self._cache.get(peer.certificate)
        if cert is None:
            cert = load_certificates(_read(peer.certificate), source=str(peer.certificate))[0]
            self._cache[peer.certificate] = cert
        return cert


# --- the transport ---------------------------------------------------------


class HttpTransport:
    """Transport over the stand-in signed POST, one HTTP session for all peers."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        network = settings.network
        self._provider_id = network.provider_id
        self._key, self._cert = load_identity(network)
        self._cas = load_trust_anchors(network.ca_certificates)
        self._pins = PinnedCertificates()
        self._timeout = aiohttp.ClientTimeout(
            total=timeout if timeout is not None else settings.delivery.timeout_seconds
        )
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def send(self, peer: Peer, message: OutboundMessage) -> Receipt:
        """Deliver ``message`` to ``peer``; raises TransportError only."""
        try:
            headers, body = build_request(
                message,
                from_provider=self._provider_id,
                key=self._key,
                cert=self._cert,
                now=self._clock(),
            )
        except GatewayError as exc:
            raise TransportError(exc.message, permanent=True, peer=peer.name) from None
        status, answer = await self._post(peer, headers, body)
        if status == 200:
            return self._receipt(peer, message, answer)
        raise self._refusal(peer, message, status, answer)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _session_now(self) -> aiohttp.ClientSession:
        # Created on first use: aiohttp wants a running event loop for it.
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _post(self, peer: Peer, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            async with self._session_now().post(
                peer.endpoint, data=body, headers=headers, allow_redirects=False
            ) as resp:
                return resp.status, await _read_capped(resp, MAX_ANSWER_BYTES)
        except TimeoutError:
            reason = f"no answer within {self._timeout.total} s"
        except aiohttp.ClientError as exc:
            reason = str(exc) or type(exc).__name__
        log.info("exchange.unreachable", peer=peer.name, reason=reason)
        raise TransportError(
            f"cannot reach peer {peer.name} at {peer.endpoint}: {reason}",
            permanent=False,
            peer=peer.name,
        )

    def _trusted_signer(self, peer: Peer, raw: bytes) -> x509.Certificate:
        """The peer's certificate, once the answer's certificate is shown to be it."""
        embedded = signer_certificate(raw)
        pinned = self._pins.get(peer)
        check_peer_certificate(
            embedded, pinned=pinned, cas=self._cas, expected_cn=peer.provider_id, now=self._clock()
        )
        return pinned if pinned is not None else embedded

    def _receipt(self, peer: Peer, message: OutboundMessage, raw: bytes) -> Receipt:
        try:
            receipt = verify_receipt(
                raw,
                expected_message_id=message.message_id,
                expected_payload_sha256=sha256_hex(message.payload),
                peer_cert=self._trusted_signer(peer, raw),
            )
        except SecurityError as exc:
            # Transient: the peer may have the document; a retry is answered
            # as a duplicate, and an admin may fix a stale pin meanwhile.
            log.warning("exchange.receipt_refused", peer=peer.name, reason=exc.message)
            raise TransportError(
                f"peer {peer.name} answered 200 but its receipt was refused: {exc.message}",
                permanent=False,
                peer=peer.name,
            ) from None
        log.info("exchange.delivered", peer=peer.name, receipt_id=receipt.receipt_id)
        return receipt

    def _refusal(
        self, peer: Peer, message: OutboundMessage, status: int, raw: bytes
    ) -> TransportError:
        try:
            answer = parse_error(raw, peer_cert=self._trusted_signer(peer, raw))
        except SecurityError as exc:
            # Only the peer itself may end a delivery: a proxy's error page or
            # a forged answer is just a failed attempt.
            return TransportError(
                f"peer {peer.name} answered HTTP {status} without a verifiable error "
                f"answer ({exc.message})",
                permanent=False,
                peer=peer.name,
                http_status=status,
            )
        if answer.message_id != message.message_id:
            return TransportError(
                f"peer {peer.name} answered HTTP {status} with an error about another message",
                permanent=False,
                peer=peer.name,
                http_status=status,
            )
        log.info("exchange.refused", peer=peer.name, code=answer.code, permanent=answer.permanent)
        return TransportError(
            f"peer {peer.name} refused the message: {answer.message}",
            permanent=answer.permanent,
            peer=peer.name,
            http_status=status,
            code=answer.code,
            ebms_code=answer.ebms_code,
        )


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise aiohttp.ClientPayloadError(f"answer larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
