"""Two gateways over real loopback HTTP: HttpTransport -> exchange_routes."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.certs import DevPki, KeyPair, create_dev_ca, write_dev_pki
from gateway.config import (
    ChannelSettings,
    DeliverySettings,
    LimitSettings,
    LogSettings,
    NetworkSettings,
    Peer,
    Settings,
    StoreSettings,
)
from gateway.errors import NotServiced, SecurityError, StoreError, TransportError
from gateway.transport.base import InboundMessage, OutboundMessage, ReceiveOutcome
from gateway.transport.client import HttpTransport
from gateway.transport.exchange import parse_error, sha256_hex, signer_certificate
from gateway.transport.server import exchange_routes

from .conftest import ALPHA, BETA

PAYLOAD = b"<Invoice>secret amounts</Invoice>"


def _message(message_id: str = "msg-1", payload: bytes = PAYLOAD) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        document_id="doc-1",
        sender="0088:5790000000001",
        recipient="0088:7300010000001",
        document_type="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1",
        process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        payload=payload,
    )


@dataclass
class MemoryReceiver:
    """The test's stand-in for the pipeline: keeps documents and receipts in dicts."""

    fail: Exception | None = None
    settings: Settings | None = None  # set by the fixture: the receiving side's settings
    messages: list[InboundMessage] = field(default_factory=list)
    known: dict[tuple[str, str], str] = field(default_factory=dict)
    receipts: dict[str, bytes] = field(default_factory=dict)

    async def receive(self, message: InboundMessage) -> ReceiveOutcome:
        if self.fail is not None:
            raise self.fail
        key = (message.peer, message.message_id)
        if key in self.known:
            doc = self.known[key]
            return ReceiveOutcome(doc, True, self.receipts.get(doc))
        doc = f"in-{len(self.known) + 1}"
        self.known[key] = doc
        self.messages.append(message)
        return ReceiveOutcome(doc, False)

    async def keep_receipt(self, document_id: str, receipt: bytes) -> None:
        self.receipts[document_id] = receipt


def _settings(
    tmp: Path, name: str, provider_id: str, pki: DevPki, peers: tuple[Peer, ...], max_bytes: int
) -> Settings:
    return Settings(
        path=tmp / f"{name}.toml",
        network=NetworkSettings(
            name=name,
            provider_id=provider_id,
            base_url="http://127.0.0.1:9",
            listen_host="127.0.0.1",
            listen_port=9,
            key=pki.key,
            certificate=pki.certificate,
            ca_certificates=(pki.ca_certificate,),
        ),
        participants=(),
        senders=(),
        peers=peers,
        store=StoreSettings(url=f"sqlite://{tmp}/{name}.db"),
        delivery=DeliverySettings(),
        limits=LimitSettings(max_document_bytes=max_bytes),
        channels=ChannelSettings(inbox_dir=tmp / "inbox", print_dir=tmp / "print"),
        logging=LogSettings(),
    )


@dataclass
class Link:
    """Network alpha sending to network beta's running server."""

    transport: HttpTransport
    beta_peer: Peer  # beta as alpha's configuration describes it
    receiver: MemoryReceiver
    alpha_pki: DevPki
    beta_pki: DevPki


async def _serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


@pytest.fixture
def dev_ca() -> KeyPair:
    return create_dev_ca(now=datetime.now(UTC) - timedelta(days=1))


LinkFactory = Callable[..., Awaitable[Link]]


@pytest.fixture
async def link(tmp_path: Path, dev_ca: KeyPair) -> AsyncIterator[LinkFactory]:
    runners: list[web.AppRunner] = []
    transports: list[HttpTransport] = []

    async def make(
        *,
        receiver: MemoryReceiver | None = None,
        max_bytes: int = 10_000,
        beta_knows_alpha: bool = True,
        alpha_pins: Path | None = None,
        answer_within: float = 5.0,
    ) -> Link:
        start = datetime.now(UTC) - timedelta(hours=1)
        alpha_pki = write_dev_pki(tmp_path / "alpha", ALPHA, now=start, ca=dev_ca)
        beta_pki = write_dev_pki(tmp_path / "beta", BETA, now=start, ca=dev_ca)
        alpha_as_peer = Peer("alpha", ALPHA, "http://127.0.0.1:9/as4", alpha_pki.certificate, ())
        beta_settings = _settings(
            tmp_path,
            "beta",
            BETA,
            beta_pki,
            (alpha_as_peer,) if beta_knows_alpha else (),
            max_bytes,
        )
        receiver = receiver or MemoryReceiver()
        receiver.settings = beta_settings
        runner, port = await _serve(
            exchange_routes(beta_settings, receiver, clock=lambda: datetime.now(UTC))
        )
        runners.append(runner)
        beta_peer = Peer(
            "beta", BETA, f"http://127.0.0.1:{port}/as4", alpha_pins or beta_pki.certificate, ()
        )
        alpha_settings = _settings(tmp_path, "alpha", ALPHA, alpha_pki, (beta_peer,), max_bytes)
        transport = HttpTransport(alpha_settings, timeout=answer_within)
        transports.append(transport)
        return Link(transport, beta_peer, receiver, alpha_pki, beta_pki)

    yield make
    for t in transports:
        await t.close()
    for r in runners:
        await r.cleanup()


async def test_delivery_gives_a_verified_receipt(link: LinkFactory) -> None:
    ln = await link()
    receipt = await ln.transport.send(ln.beta_peer, _message())
    assert receipt.message_id == "msg-1"
    assert receipt.payload_sha256 == sha256_hex(PAYLOAD)
    assert abs(receipt.received_at - datetime.now(UTC)) < timedelta(minutes=1)
    [inbound] = ln.receiver.messages
    assert (inbound.peer, inbound.message_id, inbound.payload) == ("alpha", "msg-1", PAYLOAD)
    assert ln.receiver.receipts["in-1"] == receipt.raw
    assert json.loads(receipt.raw)["document_id"] == "in-1"


async def test_duplicate_gets_the_identical_receipt(link: LinkFactory) -> None:
    ln = await link()
    first = await ln.transport.send(ln.beta_peer, _message())
    again = await ln.transport.send(ln.beta_peer, _message())
    assert again.raw == first.raw
    assert len(ln.receiver.messages) == 1


async def test_not_serviced_is_a_permanent_refusal(link: LinkFactory) -> None:
    ln = await link(receiver=MemoryReceiver(fail=NotServiced("recipient 0088:73 is not served")))
    with pytest.raises(TransportError, match="recipient 0088:73 is not served") as info:
        await ln.transport.send(ln.beta_peer, _message())
    assert info.value.permanent is True
    assert info.value.details["http_status"] == 404
    assert info.value.details["ebms_code"] == "PEPPOL:NOT_SERVICED"


@pytest.mark.parametrize(
    ("failure", "status"), [(StoreError("store down"), 503), (RuntimeError("bug"), 500)]
)
async def test_failures_on_the_receiving_side_are_transient(
    failure: Exception, status: int, link: LinkFactory
) -> None:
    ln = await link(receiver=MemoryReceiver(fail=failure))
    with pytest.raises(TransportError) as info:
        await ln.transport.send(ln.beta_peer, _message())
    assert info.value.permanent is False
    assert info.value.details["http_status"] == status


async def test_internal_error_reveals_nothing(link: LinkFactory) -> None:
    ln = await link(receiver=MemoryReceiver(fail=RuntimeError("secret amounts in a bug")))
    with pytest.raises(TransportError) as info:
        await ln.transport.send(ln.beta_peer, _message())
    assert "secret" not in info.value.message
    assert "internal error while receiving" in info.value.message


async def test_unknown_sender_is_refused(link: LinkFactory) -> None:
    ln = await link(beta_knows_alpha=False)
    with pytest.raises(TransportError, match="'PALPHA001' is not one of our peers") as info:
        await ln.transport.send(ln.beta_peer, _message())
    assert info.value.permanent is True
    assert info.value.details["http_status"] == 403


async def test_oversized_document_is_refused(link: LinkFactory) -> None:
    ln = await link(max_bytes=100)
    with pytest.raises(TransportError, match="limit is 100") as info:
        await ln.transport.send(ln.beta_peer, _message(payload=b"<x>" + b"a" * 5000 + b"</x>"))
    assert info.value.permanent is True
    assert info.value.details["http_status"] == 413


async def test_receipt_from_an_unpinned_certificate_is_not_accepted(
    link: LinkFactory, tmp_path: Path, dev_ca: KeyPair
) -> None:
    stale = write_dev_pki(tmp_path / "old-beta", BETA, now=datetime.now(UTC), ca=dev_ca)
    ln = await link(alpha_pins=stale.certificate)
    with pytest.raises(TransportError, match=r"receipt was refused.*pinned") as info:
        await ln.transport.send(ln.beta_peer, _message())
    assert info.value.permanent is False


async def test_server_down_is_transient(link: LinkFactory) -> None:
    ln = await link()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = Peer("beta", BETA, f"http://127.0.0.1:{port}/as4", ln.beta_pki.certificate, ())
    with pytest.raises(TransportError, match="cannot reach peer beta") as info:
        await ln.transport.send(down, _message())
    assert info.value.permanent is False


async def _stand_in(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, int]:
    return await _serve([web.post("/as4", handler)])


async def test_timeout_is_transient(link: LinkFactory) -> None:
    ln = await link(answer_within=0.2)
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    runner, port = await _stand_in(slow)
    try:
        peer = Peer("beta", BETA, f"http://127.0.0.1:{port}/as4", ln.beta_pki.certificate, ())
        with pytest.raises(TransportError, match=r"no answer within 0\.2 s") as info:
            await ln.transport.send(peer, _message())
        assert info.value.permanent is False
    finally:
        release.set()
        await runner.cleanup()


async def test_unsigned_error_page_is_transient(link: LinkFactory) -> None:
    ln = await link()

    async def proxy(request: web.Request) -> web.Response:
        return web.Response(status=400, text="<html>Bad Request</html>")

    runner, port = await _stand_in(proxy)
    try:
        peer = Peer("beta", BETA, f"http://127.0.0.1:{port}/as4", ln.beta_pki.certificate, ())
        with pytest.raises(TransportError, match="HTTP 400 without a verifiable") as info:
            await ln.transport.send(peer, _message())
        assert info.value.permanent is False
    finally:
        await runner.cleanup()


async def test_server_answers_plain_requests_with_signed_errors(link: LinkFactory) -> None:
    ln = await link()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            ln.beta_peer.endpoint,
            data=b"<x/>",
            headers={"Content-Type": "application/xml", "X-Message-Id": "m-9"},
        ) as resp,
    ):
        raw = await resp.read()
    assert resp.status == 400
    answer = parse_error(raw, peer_cert=signer_certificate(raw))
    assert answer.message_id == "m-9"
    assert answer.permanent is True
    assert "missing or empty header" in answer.message


def test_transport_refuses_a_key_that_does_not_match(tmp_path: Path, dev_ca: KeyPair) -> None:
    now = datetime.now(UTC)
    a = write_dev_pki(tmp_path / "a", ALPHA, now=now, ca=dev_ca)
    b = write_dev_pki(tmp_path / "b", BETA, now=now, ca=dev_ca)
    mixed = DevPki(a.ca_certificate, a.ca_key, b.key, a.certificate)
    with pytest.raises(SecurityError, match="private key does not match"):
        HttpTransport(_settings(tmp_path, "a", ALPHA, mixed, (), 1000))
