"""A peer's message whose envelope contradicts its document is refused with a
signed ebMS error and leaves nothing behind: a whole gateway (real store,
worker and inbox) behind its real ``/as4`` endpoint on loopback, and a peer
that signs and encrypts with real keys."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.as4 import outbound, receipt, sbdh
from gateway.config import loader
from gateway.model import BIS3_DOCUMENT_TYPES, BIS3_PROCESS
from gateway.pki import certificates as certs
from gateway.server.app import Gateway, make_app, running
from tests.conftest import BUYER, SELLER, STRANGER, invoice

PEER_ID = "PBETA"
INVOICE_TYPE, CREDIT_NOTE_TYPE = BIS3_DOCUMENT_TYPES
OTHER_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:02:1.0"


@dataclass
class Receiving:
    """Our gateway as a peer sees it: its /as4 URL and certificate."""

    gw: Gateway
    url: str
    provider_id: str
    cert: x509.Certificate
    peer_key: rsa.RSAPrivateKey
    peer_cert: x509.Certificate

    async def post(self, document: bytes, **envelope: str) -> receipt.Signal:
        """Send ``document`` with the envelope values given (the rest describe
        it truly): ebMS properties and SBDH agree with each other, so only
        the document can contradict them."""
        values = {
            "sender": str(SELLER),
            "recipient": str(BUYER),
            "document_type": INVOICE_TYPE,
            "process": BIS3_PROCESS,
            **envelope,
        }
        delivery = f"{uuid.uuid4()}@{PEER_ID}"
        now = datetime.now(UTC)
        request = outbound.build_request(
            document,
            user_message=outbound.user_message(
                delivery_id=delivery,
                now=now,
                from_party=PEER_ID,
                to_party=self.provider_id,
                **values,
            ),
            envelope=sbdh.Sbdh(
                sender=values["sender"],
                receiver=values["recipient"],
                document_type=values["document_type"],
                process=values["process"],
                country_c1="DK",
                instance_id=outbound.instance_id(delivery),
                created_at=now,
            ),
            key=self.peer_key,
            cert=self.peer_cert,
            recipient=self.cert,
        )
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=request.body(), headers=request.headers) as resp,
        ):
            answer = await resp.read()
            ctype = resp.headers.get("Content-Type", "")
        # Verified against our gateway's certificate: a signed answer or nothing.
        return receipt.read_signal(ctype, answer, signer=self.cert)

    def inbox(self) -> list[Path]:
        return sorted(self.gw.settings.channels.inbox_dir.rglob("*.xml"))


def _add_peer(cfg: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A peer access point whose certificate our development CA issued."""
    ca_dir = cfg.parent / "certs"
    ca = certs.load_key_pair((ca_dir / "ca.key").read_bytes(), (ca_dir / "ca.pem").read_bytes())
    key, cert = certs.issue_ap_certificate(
        ca, PEER_ID, now=datetime.now(UTC) - timedelta(days=1), days=30
    )
    (cfg.parent / "peers").mkdir()
    (cfg.parent / "peers" / "beta.pem").write_bytes(certs.certificate_pem(cert))
    cfg.write_text(
        cfg.read_text()
        + f"""
[[peers]]
name = "beta"
provider_id = "{PEER_ID}"
endpoint = "http://127.0.0.1:9/as4"
certificate = "peers/beta.pem"
participants = []
[peers.agreement]
id = "AB-1"
direction = "both"
"""
    )
    return key, cert


@pytest.fixture
async def receiving(network_dir: tuple[Path, str]) -> AsyncIterator[Receiving]:
    cfg, _ = network_dir
    peer_key, peer_cert = _add_peer(cfg)
    settings = loader.load(cfg)
    ours = certs.load_certificate(settings.network.certificate.read_bytes())
    async with running(settings) as gw:
        server = TestServer(make_app(gw))
        await server.start_server()
        try:
            yield Receiving(
                gw,
                str(server.make_url("/as4")),
                settings.network.provider_id,
                ours,
                peer_key,
                peer_cert,
            )
        finally:
            await server.close()


async def _wait_inbox(side: Receiving, count: int) -> list[Path]:
    for _ in range(500):
        if len(files := side.inbox()) >= count:
            return files
        await asyncio.sleep(0.02)
    raise AssertionError(f"the inbox never held {count} document(s)")


async def test_a_message_whose_envelope_matches_is_received_and_delivered(
    receiving: Receiving,
) -> None:
    """A peer's message whose envelope agrees with its invoice is acknowledged with a signed
    receipt, stored once and delivered to the inbox."""
    signal = await receiving.post(invoice("INV-MATCH"))
    assert signal.errors == () and signal.acknowledged is not None
    assert await receiving.gw.store.count_documents() == 1
    assert len(await _wait_inbox(receiving, 1)) == 1


MISMATCHES = {
    # kind: (envelope values, field named, envelope value, document value)
    "receiver": (
        {"recipient": str(SELLER)},
        "SBDH Receiver vs buyer EndpointID (BR-SBDH-1)",
        str(SELLER),
        str(BUYER),
    ),
    "sender": (
        {"sender": str(STRANGER)},
        "SBDH Sender vs seller EndpointID (BR-SBDH-2)",
        str(STRANGER),
        str(SELLER),
    ),
    "document type": (
        {"document_type": CREDIT_NOTE_TYPE},
        "SBDH DOCUMENTID vs root element and CustomizationID",
        CREDIT_NOTE_TYPE,
        INVOICE_TYPE,
    ),
    "process": (
        {"process": OTHER_PROCESS},
        "SBDH PROCESSID vs ProfileID",
        OTHER_PROCESS,
        BIS3_PROCESS,
    ),
}


@pytest.mark.parametrize("kind", list(MISMATCHES))
async def test_an_envelope_that_contradicts_its_document_is_refused_and_nothing_kept(
    receiving: Receiving, kind: str
) -> None:
    """A document whose SBDH receiver, sender, document type or process differs from the invoice
    is refused with one signed permanent EBMS:0004 naming the field and both values, and nothing
    is stored or delivered."""
    values, field, in_envelope, in_document = MISMATCHES[kind]
    signal = await receiving.post(invoice(f"INV-{kind}"), **values)
    assert signal.acknowledged is None, "a contradicting envelope must not be acknowledged"
    (error,) = signal.errors
    assert (error.code, error.severity) == ("EBMS:0004", "failure")
    assert error.permanent and not error.not_serviced
    assert field in error.description
    assert repr(in_envelope) in error.description and repr(in_document) in error.description
    assert error.detail.startswith("envelope_mismatch: ")
    await asyncio.sleep(0.1)  # a wrongly queued delivery would reach the inbox by now
    assert await receiving.gw.store.count_documents() == 0
    assert receiving.inbox() == []


async def test_every_mismatch_is_named_at_once(receiving: Receiving) -> None:
    """An envelope contradicting the document in receiver, sender and process gets one error
    naming all three, and nothing is stored."""
    signal = await receiving.post(
        invoice("INV-ALL"), recipient=str(SELLER), sender=str(STRANGER), process=OTHER_PROCESS
    )
    (error,) = signal.errors
    for field in ("BR-SBDH-1", "BR-SBDH-2", "PROCESSID"):
        assert field in error.description
    assert await receiving.gw.store.count_documents() == 0


async def test_a_document_not_in_utf8_is_refused_naming_its_encoding(
    receiving: Receiving,
) -> None:
    """A peer's document in Latin-1 bytes is refused with a signed permanent EBMS:0004
    (unsupported_encoding) naming the offending byte, and nothing is stored."""
    # A sender that copied ISO-8859-1 bytes into its (UTF-8) envelope.
    text = invoice("INV-LATIN1").decode().replace("Camille Bressand", "Zoë Müller")
    body = text.replace("<?xml version='1.0' encoding='UTF-8'?>", "", 1).encode("latin-1")
    signal = await receiving.post(body)
    (error,) = signal.errors
    assert error.code == "EBMS:0004" and error.permanent
    assert error.detail.startswith("unsupported_encoding: ")
    assert "not UTF-8: byte 0xEB" in error.description
    assert await receiving.gw.store.count_documents() == 0
