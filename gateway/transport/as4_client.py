"""Sending side of the Peppol AS4 exchange: ``As4Transport`` builds, signs
and encrypts a UserMessage to the peer's certificate, POSTs it and accepts
only a receipt signed by that same certificate, about its own MessageId,
acknowledging exactly the references it signed.

Anything else is a TransportError: permanent only for a signed ebMS error
about our message whose code says resending cannot help (see
``ErrorInfo.permanent``); a missing, unsigned or unverifiable answer may be
a proxy's page or a passing fault, so it is retried.

Payloads are never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import aiohttp
import structlog
from cryptography import x509

from gateway.as4 import outbound, receipt, sbdh
from gateway.as4.outbound import Request
from gateway.config.settings import Peer, Settings
from gateway.errors import GatewayError, SecurityError, TransportError
from gateway.model import ParticipantId
from gateway.pki.certificates import check_peer_certificate
from gateway.transport.base import OutboundMessage, Receipt
from gateway.transport.bodies import OFFLOAD_BYTES
from gateway.transport.credentials import PinnedCertificates, load_identity, load_trust_anchors
from gateway.transport.revocation_client import RevocationChecker

log = structlog.get_logger("gateway.transport.as4_client")

# A receipt or error signal is a few kilobytes; anything far larger is not one.
MAX_ANSWER_BYTES = 1024 * 1024
_REMEMBERED_ATTEMPTS = 10_000
_SELLER_COUNTRY = re.compile(
    rb"<(?:\w+:)?Country>\s*<(?:\w+:)?IdentificationCode[^>]*>\s*([A-Za-z]{2})\s*<"
)


# --- the transport ---------------------------------------------------------


class As4Transport:
    """Transport over Peppol AS4, one HTTP session for all peers."""

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._key, self._cert = load_identity(settings.network)
        self._cas = load_trust_anchors(settings.network.ca_certificates)
        self._pins = PinnedCertificates()
        self._revocation = RevocationChecker(
            self._cas, timeout=settings.network.revocation_timeout_seconds
        )
        total = timeout if timeout is not None else settings.delivery.timeout_seconds
        # A peer that drops connection attempts is given up on at connect,
        # so it costs its deliveries (and their slots) seconds, not the whole timeout.
        self._timeout = aiohttp.ClientTimeout(
            total=total, sock_connect=min(settings.delivery.connect_timeout_seconds, total)
        )
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._first_attempts: OrderedDict[str, datetime] = OrderedDict()

    async def send(self, peer: Peer, message: OutboundMessage) -> Receipt:
        """Deliver ``message`` to ``peer``; raises TransportError only."""
        peer_cert = self._peer_certificate(peer)
        await self._check_revocation(peer, peer_cert)
        request = await self._build(peer, peer_cert, message)
        status, ctype, answer = await self._post(peer, request)
        try:
            signal = receipt.read_signal(ctype, answer, signer=peer_cert)
        except GatewayError as exc:
            # Only the peer itself may end a delivery: an unverifiable answer
            # is a failed attempt, whatever its HTTP status.
            log.warning("as4.answer_refused", peer=peer.name, status=status, reason=exc.message)
            raise TransportError(
                f"peer {peer.name} answered HTTP {status} without a verifiable signal "
                f"({exc.message})",
                permanent=False,
                peer=peer.name,
                http_status=status,
            ) from None
        if signal.errors:
            raise self._refusal(peer, request, signal)
        return self._receipt(peer, message, request, signal)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _peer_certificate(self, peer: Peer) -> x509.Certificate:
        """The certificate we encrypt to, and the only one whose answer we believe."""
        cert = self._pins.get(peer)
        if cert is None:
            # Without an SMP lookup, the pin is where the peer's key comes from.
            raise TransportError(
                f"peer {peer.name} has no certificate configured (peers.certificate): "
                "AS4 messages are encrypted to it",
                permanent=True,
                peer=peer.name,
            )
        try:
            check_peer_certificate(
                cert, pinned=None, cas=self._cas, expected_cn=peer.provider_id, now=self._clock()
            )
        except SecurityError as exc:
            raise TransportError(
                f"the configured certificate of peer {peer.name} is not acceptable: {exc.message}",
                permanent=False,
                peer=peer.name,
            ) from None
        return cert

    async def _check_revocation(self, peer: Peer, cert: x509.Certificate) -> None:
        try:
            await self._revocation.check(
                cert, mode=self._settings.network.revocation, now=self._clock(), peer=peer.name
            )
        except SecurityError as exc:
            # Retried like an expired pin: delivery resumes once the peer's
            # new certificate is configured (or its responder answers again).
            raise TransportError(
                f"not delivering to peer {peer.name}: {exc.message}",
                permanent=False,
                peer=peer.name,
            ) from None

    def _created_at(self, message: OutboundMessage) -> datetime:
        """The creation time signed into every attempt of one delivery.

        With it the signed content of a retry (eb:Messaging, the compressed
        envelope) is identical to the first attempt's, so the original
        receipt a receiver answers a duplicate with covers exactly what the
        retry signed. The pipeline passes a time stored with the document, so
        this holds across restarts too; without one, the first attempt's
        time is remembered in memory.
        """
        if message.created_at is not None:
            return message.created_at
        first = self._first_attempts.get(message.message_id)
        if first is None:
            first = self._first_attempts[message.message_id] = self._clock()
            while len(self._first_attempts) > _REMEMBERED_ATTEMPTS:
                self._first_attempts.popitem(last=False)
        return first

    async def _build(
        self, peer: Peer, peer_cert: x509.Certificate, message: OutboundMessage
    ) -> Request:
        now = self._created_at(message)
        um = outbound.user_message(
            delivery_id=message.message_id,
            now=now,
            from_party=self._settings.network.provider_id,
            to_party=peer.provider_id,
            sender=message.sender,
            recipient=message.recipient,
            document_type=message.document_type,
            process=message.process,
        )
        envelope = sbdh.Sbdh(
            sender=message.sender,
            receiver=message.recipient,
            document_type=message.document_type,
            process=message.process,
            country_c1=self._country_c1(message),
            instance_id=outbound.instance_id(message.message_id),
            created_at=now,
        )

        def build() -> Request:
            return outbound.build_request(
                message.payload,
                user_message=um,
                envelope=envelope,
                key=self._key,
                cert=self._cert,
                recipient=peer_cert,
            )

        try:
            if len(message.payload) > OFFLOAD_BYTES:
                return await asyncio.to_thread(build)
            return build()
        except ValueError as exc:
            raise TransportError(
                f"cannot package the document for AS4: {exc}", permanent=True, peer=peer.name
            ) from None

    def _country_c1(self, message: OutboundMessage) -> str:
        """COUNTRY_C1 of the SBDH: the seller's country, from our participant
        list, else from the document's seller address."""
        try:
            participant = self._settings.participant(ParticipantId.parse(message.sender))
        except ValueError:
            participant = None
        if participant is not None and participant.country:
            return participant.country.upper()
        at = message.payload.find(b"AccountingSupplierParty>")
        found = _SELLER_COUNTRY.search(message.payload, at, at + 20000) if at >= 0 else None
        if found is None:
            raise TransportError(
                f"no country for seller {message.sender}: set participants.country",
                permanent=True,
            )
        return found.group(1).decode("ascii").upper()

    def _session_now(self) -> aiohttp.ClientSession:
        # Created on first use: aiohttp wants a running event loop for it.
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _post(self, peer: Peer, request: Request) -> tuple[int, str, bytes]:
        headers = {**request.headers, "Content-Length": str(request.size)}
        try:
            async with self._session_now().post(
                peer.endpoint, data=_stream(request), headers=headers, allow_redirects=False
            ) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), await _read_capped(resp)
        except aiohttp.ConnectionTimeoutError:
            reason = f"no connection within {self._timeout.sock_connect} s"
        except TimeoutError:
            reason = f"no answer within {self._timeout.total} s"
        except aiohttp.ClientError as exc:
            reason = str(exc) or type(exc).__name__
        log.info("as4.unreachable", peer=peer.name, reason=reason)
        raise TransportError(
            f"cannot reach peer {peer.name} at {peer.endpoint}: {reason}",
            permanent=False,
            peer=peer.name,
            unreachable=True,  # the peer's fault, as far as we can tell (circuit breaker)
        )

    def _refusal(self, peer: Peer, request: Request, signal: receipt.Signal) -> TransportError:
        error = signal.errors[0]
        if signal.ref_to_message_id != request.message_id:
            return TransportError(
                f"peer {peer.name} answered with an error about another message",
                permanent=False,
                peer=peer.name,
            )
        what = "does not serve the recipient" if error.not_serviced else "refused the message"
        log.info("as4.refused", peer=peer.name, code=error.code, permanent=error.permanent)
        return TransportError(
            f"peer {peer.name} {what}: {error.code} {error.short_description} {error.detail}",
            permanent=error.permanent,
            from_peer=True,
            peer=peer.name,
            ebms_code=error.code,
            detail=error.detail,
        )

    def _receipt(
        self, peer: Peer, message: OutboundMessage, request: Request, signal: receipt.Signal
    ) -> Receipt:
        try:
            receipt.check_receipt(
                signal, message_id=request.message_id, references=request.references
            )
        except GatewayError as exc:
            # Transient: the peer may have the document; a retry carries the
            # same MessageId and is answered as a duplicate.
            log.warning("as4.receipt_refused", peer=peer.name, reason=exc.message)
            raise TransportError(
                f"peer {peer.name} answered with a receipt we cannot accept: {exc.message}",
                permanent=False,
                peer=peer.name,
            ) from None
        log.info("as4.delivered", peer=peer.name, receipt_id=signal.signal_id)
        return Receipt(
            message_id=message.message_id,
            receipt_id=signal.signal_id,
            received_at=signal.timestamp,
            payload_sha256=hashlib.sha256(message.payload).hexdigest(),
            raw=signal.raw,
        )


async def _stream(request: Request) -> AsyncIterator[bytes]:
    # The attachment is sent from the buffer it was encrypted into, in
    # slices, rather than joined with the envelope into one more copy.
    for chunk in request.chunks:
        view = memoryview(chunk)
        for at in range(0, len(view), 1024 * 1024):
            yield bytes(view[at : at + 1024 * 1024])


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise aiohttp.ClientPayloadError(f"answer larger than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
