"""Revocation in the AS4 exchange, over real loopback HTTP: alpha's
As4Transport sends to beta's ``/as4``, and a CA responder (CRL and OCSP)
answers both about their certificates."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from structlog.testing import capture_logs

from gateway.as4 import outbound, receipt
from gateway.config.settings import Peer
from gateway.errors import TransportError
from gateway.pki import certificates as certs
from gateway.pki.certificates import DevPki, KeyPair
from gateway.transport.as4_client import As4Transport
from gateway.transport.as4_server import as4_routes
from tests.as4.helpers import ALPHA, BETA, Pki, envelope, invoice, user_message
from tests.as4.test_http import MemoryReceiver, _message, _serve, _settings
from tests.transport.revocation_pki import Responder, dead_url, issue


@dataclass
class Exchange:
    transport: As4Transport  # alpha's
    beta: Peer  # as alpha knows it
    received: MemoryReceiver  # beta's
    beta_cert: x509.Certificate

    async def send(self) -> None:
        await self.transport.send(self.beta, _message())


Make = Callable[..., Awaitable[Exchange]]


def _files(tmp: Path, name: str, ca: KeyPair, pair: KeyPair) -> DevPki:
    d = tmp / name
    d.mkdir()
    pki = DevPki(d / "ca.pem", d / "ca.key", d / "ap.key", d / "ap.pem")
    pki.ca_certificate.write_bytes(certs.certificate_pem(ca[1]))
    pki.key.write_bytes(certs.key_pem(pair[0]))
    pki.certificate.write_bytes(certs.certificate_pem(pair[1]))
    return pki


@pytest.fixture
async def responder(pki: Pki) -> AsyncIterator[Responder]:
    r = await Responder(pki.ca).start()
    yield r
    await r.stop()


@pytest.fixture
async def exchange(tmp_path: Path, pki: Pki) -> AsyncIterator[Make]:
    cleanup: list[Callable[[], Awaitable[None]]] = []

    async def make(alpha: KeyPair, beta: KeyPair, mode: str = "soft") -> Exchange:
        files = {"alpha": _files(tmp_path, "alpha", pki.ca, alpha)}
        files["beta"] = _files(tmp_path, "beta", pki.ca, beta)
        beta_settings = _settings(tmp_path, "beta", BETA, files["beta"], ())
        beta_settings = replace(
            beta_settings,
            network=replace(beta_settings.network, revocation=mode),
            peers=(Peer("alpha", ALPHA, "http://127.0.0.1:9/as4", files["alpha"].certificate, ()),),
        )
        received = MemoryReceiver(settings=beta_settings)
        runner, url = await _serve(
            as4_routes(beta_settings, received, clock=lambda: datetime.now(UTC))
        )
        cleanup.append(runner.cleanup)
        peer = Peer("beta", BETA, url, files["beta"].certificate, ())
        alpha_settings = _settings(tmp_path, "alpha", ALPHA, files["alpha"], (peer,))
        alpha_settings = replace(
            alpha_settings, network=replace(alpha_settings.network, revocation=mode)
        )
        transport = As4Transport(alpha_settings, timeout=10)
        cleanup.append(transport.close)
        return Exchange(transport, peer, received, beta[1])

    yield make
    for done in reversed(cleanup):
        await done()


def _dev(pki: Pki, cn: str) -> KeyPair:
    """A certificate that names no CRL or OCSP responder (as `gateway certs` makes)."""
    start = datetime.now(UTC) - timedelta(hours=1)
    return certs.issue_ap_certificate(pki.ca, cn, now=start, days=30)


async def test_good_certificates_deliver(exchange: Make, responder: Responder) -> None:
    """In hard mode with good certificates the message is delivered, and each side checked the
    other's certificate once."""
    ex = await exchange(responder.issue(ALPHA), responder.issue(BETA), "hard")
    with capture_logs() as logs:
        await ex.send()
    assert len(ex.received.messages) == 1
    checked = sorted(x["cn"] for x in logs if x["event"] == "revocation.checked")
    assert checked == [ALPHA, BETA]  # alpha checked beta's, beta checked alpha's


@pytest.mark.parametrize("source", ["ocsp", "crl"])
async def test_revoked_sender_is_refused_inbound(
    source: str, exchange: Make, responder: Responder, pki: Pki
) -> None:
    """A sender whose certificate OCSP or the CRL says is revoked is refused with a signed
    EBMS:0101 saying so, nothing is kept, and the responder was asked once."""
    alpha = responder.issue(ALPHA, ocsp_=source == "ocsp", crl=source == "crl")
    responder.revoked[alpha[1].serial_number] = datetime.now(UTC) - timedelta(days=1)
    ex = await exchange(alpha, _dev(pki, BETA))
    with pytest.raises(TransportError, match="refused the message") as caught:
        await ex.send()
    assert caught.value.details["ebms_code"] == "EBMS:0101"
    assert "revoked" in caught.value.details["detail"]
    assert ex.received.messages == [] and ex.received.receipts == {}
    assert responder.hits == {source: 1}


async def test_revoked_peer_is_not_delivered_to(
    exchange: Make, responder: Responder, pki: Pki
) -> None:
    """A sender does not deliver to a peer whose certificate is revoked: a temporary failure
    naming the peer, and nothing is received."""
    beta = responder.issue(BETA)
    responder.revoked[beta[1].serial_number] = datetime.now(UTC) - timedelta(days=1)
    ex = await exchange(_dev(pki, ALPHA), beta)
    with pytest.raises(TransportError, match=r"not delivering to peer beta.*revoked") as caught:
        await ex.send()
    assert not caught.value.permanent
    assert ex.received.messages == []


def _unreachable(pki: Pki, cn: str) -> KeyPair:
    return issue(pki.ca, cn, now=datetime.now(UTC), crl_url=dead_url(), ocsp_url=dead_url())


async def test_unreachable_responder_soft_delivers_with_a_warning(exchange: Make, pki: Pki) -> None:
    """In soft mode, when no revocation responder answers, the message is delivered and both
    certificates are logged as unknown."""
    ex = await exchange(_unreachable(pki, ALPHA), _unreachable(pki, BETA), "soft")
    with capture_logs() as logs:
        await ex.send()
    assert len(ex.received.messages) == 1
    warned = sorted(x["cn"] for x in logs if x["event"] == "revocation.unknown")
    assert warned == [ALPHA, BETA]


async def test_unreachable_responder_hard_refuses_inbound(exchange: Make, pki: Pki) -> None:
    """In hard mode, when the sender's revocation status cannot be checked, the receiver refuses
    with EBMS:0101 "cannot be checked" and keeps nothing."""
    ex = await exchange(_unreachable(pki, ALPHA), _dev(pki, BETA), "hard")
    with pytest.raises(TransportError) as caught:
        await ex.send()
    assert caught.value.details["ebms_code"] == "EBMS:0101"
    assert "cannot be checked" in caught.value.details["detail"]
    assert ex.received.messages == []


async def test_unreachable_responder_hard_stops_outbound(exchange: Make, pki: Pki) -> None:
    """In hard mode, when the peer's revocation status cannot be checked, the sender does not
    deliver to it."""
    ex = await exchange(_dev(pki, ALPHA), _unreachable(pki, BETA), "hard")
    with pytest.raises(TransportError, match=r"not delivering to peer beta.*cannot be checked"):
        await ex.send()
    assert ex.received.messages == []


async def test_known_revoked_sender_is_refused_before_decryption(
    exchange: Make, responder: Responder, pki: Pki
) -> None:
    """Once a sender is known to be revoked, its next message is refused with EBMS:0101 naming
    the revocation before any decryption, without asking the responder again."""
    alpha = responder.issue(ALPHA)
    responder.revoked[alpha[1].serial_number] = datetime.now(UTC) - timedelta(days=1)
    ex = await exchange(alpha, _dev(pki, BETA))
    with pytest.raises(TransportError):
        await ex.send()  # beta learns that alpha's certificate is revoked
    # Encrypted to a key beta does not hold: only a refusal before
    # decryption can name the revocation rather than the decryption.
    request = outbound.build_request(
        invoice(),
        user_message=user_message(),
        envelope=envelope(),
        key=alpha[0],
        cert=alpha[1],
        recipient=_dev(pki, BETA)[1],
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(ex.beta.endpoint, data=request.body(), headers=request.headers) as resp,
    ):
        signal = receipt.read_signal(
            resp.headers["Content-Type"], await resp.read(), signer=ex.beta_cert
        )
    [error] = signal.errors
    assert error.code == "EBMS:0101" and "revoked" in error.detail
    assert responder.hits == {"ocsp": 1}
