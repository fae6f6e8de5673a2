"""Receiving side of the stand-in exchange: ``POST /as4``.

Turns a peer's signed POST into an InboundMessage for the Receiver and
answers with a signed receipt, or a signed error whose HTTP status and
``permanent`` flag tell the sender whether to retry. The path stays when
the AS4 issue replaces the protocol behind it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog
from aiohttp import web

from gateway.config import Settings
from gateway.errors import GatewayError, PayloadTooLarge, UnsupportedMediaType
from gateway.transport.base import InboundMessage, Receiver
from gateway.transport.client import PinnedCertificates, load_identity, load_trust_anchors
from gateway.transport.exchange import (
    CONTENT_TYPE,
    H_MESSAGE_ID,
    build_error,
    build_receipt,
    parse_request,
    sha256_hex,
)

log = structlog.get_logger("gateway.transport.server")

PATH = "/as4"
_CHUNK = 64 * 1024


def exchange_routes(
    settings: Settings, receiver: Receiver, *, clock: Callable[[], datetime]
) -> list[web.RouteDef]:
    """The ``POST /as4`` route. Our key and certificates are read now, so a
    broken file stops start-up instead of failing every request."""
    handler = _ExchangeHandler(settings, receiver, clock)
    return [web.post(PATH, handler.handle)]


class _ExchangeHandler:
    def __init__(
        self, settings: Settings, receiver: Receiver, clock: Callable[[], datetime]
    ) -> None:
        self._settings = settings
        self._receiver = receiver
        self._clock = clock
        self._key, self._cert = load_identity(settings.network)
        self._cas = load_trust_anchors(settings.network.ca_certificates)
        self._pins = PinnedCertificates()

    async def handle(self, request: web.Request) -> web.Response:
        message_id = _echoed_message_id(request.headers)
        try:
            return await self._exchange(request)
        except GatewayError as exc:
            log.info("exchange.refused", message_id=message_id, code=exc.code, reason=exc.message)
            return self._error(exc, message_id)
        except Exception:
            # Our bug, not the peer's: keep the details in our log only.
            log.exception("exchange.failed", message_id=message_id)
            return self._error(GatewayError("internal error while receiving"), message_id)

    async def _exchange(self, request: web.Request) -> web.Response:
        if request.content_type != CONTENT_TYPE:
            raise UnsupportedMediaType(
                f"Content-Type must be {CONTENT_TYPE}, not {request.content_type!r}"
            )
        limit = self._receiver.settings.limits.max_document_bytes
        body = await _read_body(request, limit)
        now = self._clock()
        _, inbound = parse_request(
            request.headers,
            body,
            peer_lookup=self._receiver.settings.peer_by_provider,
            load_peer_cert=self._pins.get,
            cas=self._cas,
            now=now,
            max_bytes=limit,
        )
        receipt = await self._receipt_for(inbound, now)
        return web.Response(status=200, body=receipt, content_type="application/json")

    async def _receipt_for(self, inbound: InboundMessage, now: datetime) -> bytes:
        outcome = await self._receiver.receive(inbound)
        if outcome.duplicate and outcome.receipt:
            # The same bytes as the first time: the sender may keep either.
            log.info("exchange.duplicate", message_id=inbound.message_id, peer=inbound.peer)
            return outcome.receipt
        receipt = build_receipt(
            message_id=inbound.message_id,
            receipt_id=uuid.uuid4().hex,
            received_at=now,
            payload_sha256=sha256_hex(inbound.payload),
            document_id=outcome.document_id,
            key=self._key,
            cert=self._cert,
        )
        await self._receiver.keep_receipt(outcome.document_id, receipt)
        log.info(
            "exchange.received",
            message_id=inbound.message_id,
            peer=inbound.peer,
            document_id=outcome.document_id,
        )
        return receipt

    def _error(self, exc: GatewayError, message_id: str) -> web.Response:
        body = build_error(
            exc, message_id=message_id, key=self._key, cert=self._cert, now=self._clock()
        )
        return web.Response(status=exc.http_status, body=body, content_type="application/json")


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed ``limit``."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"document is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"document is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _echoed_message_id(headers: Mapping[str, str]) -> str:
    """The request's message id, to name it in an error answer even when the
    request is refused before it is checked; "" when unusable."""
    value = headers.get(H_MESSAGE_ID, "")
    if len(value) > 256 or not all(" " <= c <= "~" for c in value):
        return ""
    return value
