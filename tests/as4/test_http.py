"""Two gateways' AS4 adapters over real loopback HTTP, both directions:
As4Transport -> as4_routes, plus the ``as4`` package's sender against our
endpoint."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from as4 import AS4LocalPrivateKey, AS4SendingExchange, ExchangeState
from as4.peppol import PeppolAS4Profile, create_peppol_external_party, create_peppol_internal_party
from as4.profiles.peppol.document_identifier import BusdoxDocidQnsDocumentIdentifier
from as4.profiles.peppol.message import PeppolAS4MessageBuilderArgs

from gateway.as4 import outbound, receipt
from gateway.config.settings import (
    ChannelSettings,
    DeliverySettings,
    LimitSettings,
    LogSettings,
    NetworkSettings,
    Peer,
    Settings,
    StoreSettings,
)
from gateway.errors import GatewayError, NotServiced, StoreError, TransportError
from gateway.pki import certificates as certs
from gateway.pki.certificates import DevPki, write_dev_pki
from gateway.transport.as4_client import As4Transport
from gateway.transport.as4_server import as4_routes
from gateway.transport.base import InboundMessage, OutboundMessage, ReceiveOutcome
from tests.as4.helpers import ALPHA, BETA, BUYER, DOCTYPE, PROCESS, SELLER, Pki, envelope, invoice
from tests.as4.test_large import big_invoice


class Rejected(GatewayError):
    """Stands for pipeline.DocumentRejected."""

    http_status = 400
    code = "document_rejected"


def _message(message_id: str = "doc-1@" + ALPHA, payload: bytes | None = None) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        document_id="doc-1",
        sender=str(SELLER),
        recipient=str(BUYER),
        document_type=DOCTYPE,
        process=PROCESS,
        payload=invoice() if payload is None else payload,
    )


@dataclass
class MemoryReceiver:
    """The pipeline's stand-in: documents and receipts in dicts."""

    fail: Exception | None = None
    settings: Settings | None = None  # the receiving side's, set by the fixture
    messages: list[InboundMessage] = field(default_factory=list)
    known: dict[tuple[str, str], str] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)  # document -> first message id
    receipts: dict[str, bytes] = field(default_factory=dict)

    async def receive(self, message: InboundMessage) -> ReceiveOutcome:
        # As the pipeline does: duplicates by SBDH InstanceIdentifier.
        if self.fail is not None:
            raise self.fail
        key = (message.peer, message.instance_id or message.message_id)
        if key in self.known:
            doc = self.known[key]
            return ReceiveOutcome(doc, True, self.receipts.get(doc), self.first[doc])
        doc = f"in-{len(self.known) + 1}"
        self.known[key] = doc
        self.first[doc] = message.message_id
        self.messages.append(message)
        return ReceiveOutcome(doc, False)

    async def keep_receipt(self, document_id: str, receipt: bytes) -> None:
        self.receipts[document_id] = receipt


def _settings(tmp: Path, name: str, me: str, pki: DevPki, peers: tuple[Peer, ...]) -> Settings:
    return Settings(
        path=tmp / f"{name}.toml",
        network=NetworkSettings(
            name=name,
            provider_id=me,
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
        limits=LimitSettings(max_document_bytes=4 * 1024 * 1024),
        channels=ChannelSettings(inbox_dir=tmp / "inbox", print_dir=tmp / "print"),
        logging=LogSettings(),
    )


@dataclass
class Side:
    settings: Settings
    pki: DevPki
    receiver: MemoryReceiver
    url: str
    transport: As4Transport

    def peer(self, name: str) -> Peer:
        found = self.settings.peer_named(name)
        assert found is not None
        return found


@dataclass
class Networks:
    alpha: Side
    beta: Side


async def _serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/as4"


Factory = Callable[..., Awaitable[Networks]]


@pytest.fixture
async def networks(tmp_path: Path, pki: Pki) -> AsyncIterator[Factory]:
    cleanup: list[Callable[[], Awaitable[None]]] = []

    async def make(
        *, beta_receiver: MemoryReceiver | None = None, alpha_pins_beta: Path | None = None
    ) -> Networks:
        start = datetime.now(UTC) - timedelta(hours=1)
        pkis = {
            n: write_dev_pki(tmp_path / n, ap, now=start, ca=pki.ca)
            for n, ap in (("alpha", ALPHA), ("beta", BETA))
        }
        receivers = {"alpha": MemoryReceiver(), "beta": beta_receiver or MemoryReceiver()}
        urls: dict[str, str] = {}
        runners: dict[str, web.AppRunner] = {}
        # Both servers first (they need no peers' URLs to be built), then the settings.
        base = {
            n: _settings(tmp_path, n, ap, pkis[n], ())
            for n, ap in (("alpha", ALPHA), ("beta", BETA))
        }
        sides = {}
        for name, other, other_ap in (
            ("alpha", "beta", BETA),
            ("beta", "alpha", ALPHA),
        ):
            pin = (
                alpha_pins_beta
                if (name == "alpha" and alpha_pins_beta)
                else pkis[other].certificate
            )
            peer = Peer(other, other_ap, "http://127.0.0.1:9/as4", pin, ())
            settings = replace(base[name], peers=(peer,))
            receivers[name].settings = settings
            runners[name], urls[name] = await _serve(
                as4_routes(settings, receivers[name], clock=lambda: datetime.now(UTC))
            )
            cleanup.append(runners[name].cleanup)
            sides[name] = settings
        for name, other in (("alpha", "beta"), ("beta", "alpha")):
            peer = replace(sides[name].peers[0], endpoint=urls[other])
            sides[name] = replace(sides[name], peers=(peer,))
        built = {}
        for name in ("alpha", "beta"):
            transport = As4Transport(sides[name], timeout=10)
            cleanup.append(transport.close)
            built[name] = Side(sides[name], pkis[name], receivers[name], urls[name], transport)
        return Networks(built["alpha"], built["beta"])

    yield make
    for done in reversed(cleanup):
        await done()


async def test_both_directions_deliver_with_verified_receipts(networks: Factory) -> None:
    """Each gateway sends to the other over HTTP and gets a verified receipt for that message;
    the receiver gets the sender, recipient and document as sent, and keeps the receipt."""
    net = await networks()
    for sender, receiving in ((net.alpha, net.beta), (net.beta, net.alpha)):
        other = "beta" if sender is net.alpha else "alpha"
        msg = _message(message_id=f"doc-1@{sender.settings.network.provider_id}")
        got = await sender.transport.send(sender.peer(other), msg)
        assert got.message_id == msg.message_id
        assert got.payload_sha256 == hashlib.sha256(msg.payload).hexdigest()
        assert abs(got.received_at - datetime.now(UTC)) < timedelta(minutes=1)
        [inbound] = receiving.receiver.messages
        assert inbound.message_id == msg.message_id
        assert inbound.peer == ("alpha" if sender is net.alpha else "beta")
        assert (inbound.sender, inbound.recipient) == (str(SELLER), str(BUYER))
        assert inbound.payload == msg.payload[msg.payload.index(b"<!--") :]
        assert receiving.receiver.receipts["in-1"] == got.raw


async def test_retry_gets_the_original_receipt_and_one_delivery(networks: Factory) -> None:
    """Sending the same message twice returns the original receipt's bytes again, and the
    receiver keeps one message."""
    net = await networks()
    first = await net.alpha.transport.send(net.alpha.peer("beta"), _message())
    again = await net.alpha.transport.send(net.alpha.peer("beta"), _message())
    assert again.raw == first.raw
    assert len(net.beta.receiver.messages) == 1


async def test_same_envelope_under_a_new_message_id_is_delivered_once(networks: Factory) -> None:
    """A rebuilt message with a new MessageId but the same SBDH instance id gets a valid receipt
    and is not delivered a second time."""
    net = await networks()
    await net.alpha.transport.send(net.alpha.peer("beta"), _message())
    key, cert = certs.load_key_pair(
        net.alpha.pki.key.read_bytes(), net.alpha.pki.certificate.read_bytes()
    )
    beta_cert = certs.load_certificate(net.beta.pki.certificate.read_bytes())
    env = replace(envelope("doc-1@" + ALPHA), country_c1="FR")
    um = outbound.user_message(
        delivery_id="rebuilt-2@" + ALPHA,
        now=datetime.now(UTC),
        from_party=ALPHA,
        to_party=BETA,
        sender=str(SELLER),
        recipient=str(BUYER),
        document_type=DOCTYPE,
        process=PROCESS,
    )
    req = outbound.build_request(
        invoice(), user_message=um, envelope=env, key=key, cert=cert, recipient=beta_cert
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(net.beta.url, data=req.body(), headers=req.headers) as resp,
    ):
        assert resp.status == 200
        signal = receipt.read_signal(
            resp.headers["Content-Type"], await resp.read(), signer=beta_cert
        )
    receipt.check_receipt(signal, message_id="rebuilt-2@" + ALPHA, references=req.references)
    assert len(net.beta.receiver.messages) == 1


@pytest.mark.parametrize(
    ("fail", "permanent", "words"),
    [
        (NotServiced("recipient 0088:1 is not served"), True, "does not serve the recipient"),
        (Rejected("the document failed validation"), True, "document_rejected"),
        (StoreError("store unavailable"), False, "temporary"),
    ],
)
async def test_refusals_are_signed_errors(
    networks: Factory, fail: Exception, permanent: bool, words: str
) -> None:
    """A receiver that does not serve the recipient, rejects the document, or has its store down
    answers a signed EBMS:0004 that the sender reports as the peer's, permanent or temporary."""
    net = await networks(beta_receiver=MemoryReceiver(fail=fail))
    with pytest.raises(TransportError, match=words) as caught:
        await net.alpha.transport.send(net.alpha.peer("beta"), _message())
    assert caught.value.permanent is permanent
    assert caught.value.from_peer, "a signed refusal is the peer's, and may say so"
    assert caught.value.details["ebms_code"] == "EBMS:0004"


async def test_unknown_sender_gets_a_signed_authentication_error(networks: Factory) -> None:
    """A message from an AP id the receiver has no peer for is refused with EBMS:0101, a
    permanent failure for the sender."""
    net = await networks()
    stranger = replace(
        net.alpha.settings, network=replace(net.alpha.settings.network, provider_id="POP000999")
    )
    write_dev_pki(
        net.alpha.pki.key.parent.parent / "stranger",
        "POP000999",
        now=datetime.now(UTC) - timedelta(hours=1),
        ca_dir=net.alpha.pki.key.parent,
    )
    d = net.alpha.pki.key.parent.parent / "stranger"
    stranger = replace(
        stranger, network=replace(stranger.network, key=d / "ap.key", certificate=d / "ap.pem")
    )
    transport = As4Transport(stranger, timeout=10)
    try:
        with pytest.raises(TransportError, match="EBMS:0101") as caught:
            await transport.send(net.alpha.peer("beta"), _message("doc-9@POP000999"))
    finally:
        await transport.close()
    assert caught.value.permanent


async def test_encrypting_to_a_wrong_pin_is_a_failed_attempt(
    networks: Factory, tmp_path: Path, pki: Pki
) -> None:
    """A sender that pinned the wrong certificate for the peer gets no verifiable signal: a
    temporary failure, and the peer keeps nothing."""
    impostor = write_dev_pki(
        tmp_path / "impostor",
        BETA,
        now=datetime.now(UTC) - timedelta(hours=1),
        ca=pki.ca,
    )
    net = await networks(alpha_pins_beta=impostor.certificate)
    with pytest.raises(TransportError, match="without a verifiable signal") as caught:
        await net.alpha.transport.send(net.alpha.peer("beta"), _message())
    assert not caught.value.permanent
    assert not net.beta.receiver.messages


async def test_unreachable_peer_is_transient(networks: Factory) -> None:
    """A peer whose port is closed is a temporary "cannot reach" failure, not blamed on the peer."""
    net = await networks()
    gone = replace(net.alpha.peer("beta"), endpoint="http://127.0.0.1:9/as4")
    with pytest.raises(TransportError, match="cannot reach") as caught:
        await net.alpha.transport.send(gone, _message())
    assert not caught.value.permanent and not caught.value.from_peer


async def test_a_larger_document_streams_through(networks: Factory) -> None:
    """A 3 MB document is delivered over HTTP and received byte for byte."""
    net = await networks()
    doc = big_invoice(3 * 1024 * 1024)
    await net.alpha.transport.send(net.alpha.peer("beta"), _message(payload=doc))
    [inbound] = net.beta.receiver.messages
    assert inbound.payload == doc[doc.index(b"<!--") :]


async def test_oversized_request_is_refused_with_a_signed_error(networks: Factory) -> None:
    """A request body over the size limit is answered 413 with a signed payload_too_large error."""
    net = await networks()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            net.beta.url,
            data=b"x" * (7 * 1024 * 1024),
            headers={"Content-Type": "multipart/related; boundary=x"},
        ) as resp,
    ):
        assert resp.status == 413
        beta_cert = certs.load_certificate(net.beta.pki.certificate.read_bytes())
        signal = receipt.read_signal(
            resp.headers["Content-Type"], await resp.read(), signer=beta_cert
        )
    assert signal.errors[0].detail.startswith("payload_too_large")


# --- the as4 package's sender against our endpoint -----------------------------


async def test_their_sender_to_our_endpoint(networks: Factory) -> None:
    """The independent as4 package's sender is acknowledged by our endpoint, again on a replay
    with one delivery, and a tampered attachment is rejected with EBMS:0102."""
    net = await networks()
    key, cert = certs.load_key_pair(
        net.alpha.pki.key.read_bytes(), net.alpha.pki.certificate.read_bytes()
    )
    beta_cert = certs.load_certificate(net.beta.pki.certificate.read_bytes())

    def exchange() -> tuple[AS4SendingExchange, dict[str, str], bytes]:
        local = create_peppol_internal_party(
            party_id=ALPHA, certificate=cert, private_key=AS4LocalPrivateKey(key)
        )
        remote = create_peppol_external_party(party_id=BETA, certificate=beta_cert)
        ex = AS4SendingExchange(profile=PeppolAS4Profile, local_party=local, remote_party=remote)
        args = PeppolAS4MessageBuilderArgs(
            sender=str(SELLER),
            recipient=str(BUYER),
            document_type_identifier=BusdoxDocidQnsDocumentIdentifier.from_identifier_value(
                DOCTYPE
            ),
            document_identification_instance_identifier="6f1c2d3e-0000-4000-8000-000000000001",
            process_identifier=PROCESS,
            c1_country_id="FR",
        )
        headers, body = ex.build(invoice(), args)
        return ex.mark_sent(), headers, body

    ex, headers, body = exchange()
    async with aiohttp.ClientSession() as http:
        for attempt in range(2):  # the second is a replay of the same bytes
            async with http.post(net.beta.url, data=body, headers=headers) as resp:
                ex.receive_signal(await resp.read())
            assert ex.state is ExchangeState.ACKNOWLEDGED, attempt
        assert len(net.beta.receiver.messages) == 1
        ex2, headers2, body2 = exchange()
        tampered = bytearray(body2)
        tampered[len(body2) - 200] ^= 1  # inside the encrypted attachment
        async with http.post(net.beta.url, data=bytes(tampered), headers=headers2) as resp:
            ex2.receive_signal(await resp.read())
        assert ex2.state is ExchangeState.REJECTED
        assert ex2.error is not None and ex2.error.error_code == "EBMS:0102"


async def test_a_proxy_error_page_is_a_transient_failure(networks: Factory) -> None:
    """An HTML 502 page from a proxy instead of a signal is a temporary failure "HTTP 502 without
    a verifiable signal"."""
    net = await networks()

    async def proxy(_: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad gateway</html>", content_type="text/html")

    app = web.Application()
    app.add_routes([web.post("/as4", proxy)])
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        peer = replace(
            net.alpha.peer("beta"), endpoint=f"http://127.0.0.1:{runner.addresses[0][1]}/as4"
        )
        with pytest.raises(TransportError, match="HTTP 502 without a verifiable signal") as caught:
            await net.alpha.transport.send(peer, _message())
    finally:
        await runner.cleanup()
    assert not caught.value.permanent
