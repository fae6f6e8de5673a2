"""Receiving side of the Peppol AS4 exchange: ``POST /as4``.

Reads the request with a size limit, checks the sender's certificate
against our trust configuration (a trusted CA, the peer's pin, CN = the
eb:From PartyId = a configured peer's provider id), then decrypts, verifies
and decompresses (bounded) it, checks that the sender's certificate is not
revoked (an async look-up, so after the sync read, before anything is
stored or acknowledged), hands the document to the Receiver and
answers with a signed receipt, or with a signed ebMS error for any
GatewayError. A duplicate is answered with the receipt sent the first time.

Duplicates are eliminated on both keys Peppol names, the ebMS MessageId and
the SBDH InstanceIdentifier, by the Receiver (``Pipeline.receive``, with the
keys of ``gateway.core.dedup``), in the same store write as the document.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

import structlog
from aiohttp import web
from cryptography import x509

from gateway.as4 import inbound, receipt
from gateway.as4.inbound import Received
from gateway.config.settings import Settings
from gateway.errors import GatewayError, PayloadTooLarge, SecurityError
from gateway.pki.certificates import check_peer_certificate
from gateway.transport import bodies
from gateway.transport.base import InboundMessage, Receiver
from gateway.transport.bodies import OFFLOAD_BYTES
from gateway.transport.credentials import PinnedCertificates, load_identity, load_trust_anchors
from gateway.transport.http_guard import client_went_away
from gateway.transport.revocation_client import RevocationChecker

log = structlog.get_logger("gateway.transport.as4_server")

PATH = "/as4"
# Room for MIME headers and the SOAP envelope, and for base64 transfer
# encoding (4/3), which some senders use for the attachment.
_OVERHEAD = 1024 * 1024


def as4_routes(
    settings: Settings, receiver: Receiver, *, clock: Callable[[], datetime]
) -> list[web.RouteDef]:
    """The ``POST /as4`` route. Our key and certificates are read now, so a
    broken file stops start-up instead of failing every request."""
    handler = _As4Handler(settings, receiver, clock)
    return [web.post(PATH, handler.handle)]


class _As4Handler:
    def __init__(
        self, settings: Settings, receiver: Receiver, clock: Callable[[], datetime]
    ) -> None:
        self._receiver = receiver
        self._clock = clock
        self._key, self._cert = load_identity(settings.network)
        self._cas = load_trust_anchors(settings.network.ca_certificates)
        self._pins = PinnedCertificates()
        self._revocation = RevocationChecker(
            self._cas, timeout=settings.network.revocation_timeout_seconds
        )
        self._provider_id = settings.network.provider_id

    async def handle(self, request: web.Request) -> web.Response:
        ctype = request.headers.get("Content-Type")
        body = b""
        try:
            body = await _read_body(request, self._body_limit())
            return await self._exchange(ctype, body)
        except web.HTTPException:
            raise  # busy or too slow: answered before the sender is known, unsigned
        except GatewayError as exc:
            return self._error(exc, ctype, body)
        except Exception as exc:
            if client_went_away(request, exc):
                # An aborted upload: nobody would read a signed refusal.
                log.debug("as4.client_gone")
                return web.Response(status=400)
            # Our bug, not the peer's: keep the details in our log only.
            log.exception("as4.failed")
            return self._error(GatewayError("internal error while receiving"), ctype, body)

    @property
    def _settings(self) -> Settings:
        # The settings in force, read per request: a reload applies at once.
        return self._receiver.settings

    def _body_limit(self) -> int:
        return self._settings.limits.max_document_bytes * 4 // 3 + _OVERHEAD

    async def _exchange(self, ctype: str | None, body: bytes) -> web.Response:
        now = self._clock()

        def read() -> Received:
            return inbound.read_request(
                ctype,
                body,
                key=self._key,
                cert=self._cert,
                party_id=self._provider_id,
                trust=lambda cert, party: self._trust(cert, party, now),
                max_document_bytes=self._settings.limits.max_document_bytes,
            )

        got = await asyncio.to_thread(read) if len(body) > OFFLOAD_BYTES else read()
        peer = self._settings.peer_by_provider(got.user_message.from_party)
        assert peer is not None  # _trust refused unknown senders
        await self._revocation.check(
            got.signer, mode=self._settings.network.revocation, now=now, peer=peer.name
        )
        answer = await self._answer(peer.name, got, now)
        return web.Response(status=200, body=answer, content_type="application/soap+xml")

    def _trust(self, cert: x509.Certificate, party: str, now: datetime) -> None:
        peer = self._settings.peer_by_provider(party)
        if peer is None:
            raise SecurityError(f"access point {party!r} is not one of our peers", reason="unknown")
        check_peer_certificate(
            cert, pinned=self._pins.get(peer), cas=self._cas, expected_cn=peer.provider_id, now=now
        )
        self._revocation.refuse_known_revoked(cert, mode=self._settings.network.revocation, now=now)

    async def _answer(self, peer: str, got: Received, now: datetime) -> bytes:
        um, envelope = got.user_message, got.envelope
        outcome = await self._receiver.receive(
            InboundMessage(
                message_id=um.message_id,
                peer=peer,
                sender=envelope.sender,
                recipient=envelope.receiver,
                document_type=envelope.document_type,
                process=envelope.process,
                payload=got.document,
                instance_id=envelope.instance_id,
            )
        )
        if outcome.duplicate:
            if outcome.receipt and outcome.first_message_id == um.message_id:
                # A retry: the same bytes as the first time, which the sender
                # can check against what it signed (retries sign the same).
                log.info("as4.duplicate", peer=peer, message_id=um.message_id)
                return outcome.receipt
            # The same envelope under a new MessageId (or a first receipt
            # that was never stored): acknowledge this message, deliver nothing.
            log.info("as4.duplicate_envelope", peer=peer, message_id=um.message_id)
            return self._receipt(got, now)
        answer = self._receipt(got, now)
        await self._receiver.keep_receipt(outcome.document_id, answer)
        log.info(
            "as4.received", peer=peer, message_id=um.message_id, document_id=outcome.document_id
        )
        return answer

    def _receipt(self, got: Received, now: datetime) -> bytes:
        return receipt.build_receipt(
            ref_to_message_id=got.user_message.message_id,
            references=got.references,
            receipt_id=f"{uuid.uuid4()}@{self._provider_id}",
            now=now,
            key=self._key,
            cert=self._cert,
        )

    def _error(self, exc: GatewayError, ctype: str | None, body: bytes) -> web.Response:
        message_id = inbound.peek_message_id(ctype, body) if body else ""
        log.info("as4.refused", message_id=message_id, code=exc.code, reason=exc.message)
        answer = receipt.build_refusal(
            exc,
            ref_to_message_id=message_id,
            signal_id=f"{uuid.uuid4()}@{self._provider_id}",
            now=self._clock(),
            key=self._key,
            cert=self._cert,
        )
        return web.Response(
            status=exc.http_status, body=answer, content_type="application/soap+xml"
        )


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed ``limit``. A full
    budget gets a plain 503: the sender is not known yet, and an anonymous
    flood must not cost us a signature per request."""
    try:
        return await bodies.read_body(request, limit)
    except bodies.BodyTooLarge as exc:
        size = f"{exc.declared} bytes" if exc.declared is not None else "larger than the limit"
        raise PayloadTooLarge(f"the message is {size}; the limit is {limit}") from None
    except bodies.BudgetFull as exc:
        raise web.HTTPServiceUnavailable(
            headers={"Retry-After": str(exc.retry_after)}, text="busy; retry later\n"
        ) from None
    except bodies.BodyTimeout as exc:
        raise web.HTTPRequestTimeout(text=f"{exc}\n") from None
