"""AS4 messages for tests: SBDH envelopes, ebMS user messages, signed and
encrypted requests from ALPHA to BETA, and a receiving side that keeps what
it gets in memory.

The parties are the invoice builders' SELLER and BUYER; the access points
and keys are ``pki``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.as4 import inbound, outbound, sbdh
from gateway.as4.inbound import Received
from gateway.as4.message import UserMessage
from gateway.as4.outbound import Request
from gateway.config.settings import Settings
from gateway.model import BIS3_CUSTOMIZATION, BIS3_PROCESS, DocumentKind
from gateway.model import document_type_id as _doctype
from gateway.pki import certificates as certs
from gateway.transport.base import InboundMessage, OutboundMessage, ReceiveOutcome

from .invoices import BUYER, SELLER, invoice
from .pki import ALPHA, BETA, NOW, Pki

DOCTYPE = _doctype(DocumentKind.INVOICE, BIS3_CUSTOMIZATION)
PROCESS = BIS3_PROCESS


def envelope(delivery_id: str = "doc-1@" + ALPHA, **changes: object) -> sbdh.Sbdh:
    """The SBDH of an invoice from SELLER to BUYER, with ``changes``."""
    fields: dict[str, object] = {
        "sender": str(SELLER),
        "receiver": str(BUYER),
        "document_type": DOCTYPE,
        "process": PROCESS,
        "country_c1": "DK",
        "instance_id": outbound.instance_id(delivery_id),
        "created_at": NOW,
    }
    fields.update(changes)
    return sbdh.Sbdh(**fields)  # type: ignore[arg-type]


def user_message(delivery_id: str = "doc-1@" + ALPHA, **changes: str) -> UserMessage:
    """The ebMS user message from ALPHA to BETA for that invoice, with ``changes``."""
    fields = {
        "from_party": ALPHA,
        "to_party": BETA,
        "sender": str(SELLER),
        "recipient": str(BUYER),
        "document_type": DOCTYPE,
        "process": PROCESS,
    }
    fields.update(changes)
    return outbound.user_message(delivery_id=delivery_id, now=NOW, **fields)


def request(
    pki: Pki,
    document: bytes | None = None,
    *,
    signer: certs.KeyPair | None = None,
    recipient: x509.Certificate | None = None,
    delivery_id: str = "doc-1@" + ALPHA,
) -> Request:
    """ALPHA's request carrying ``document`` (the invoice by default), signed
    by ``signer`` (ALPHA) and encrypted to ``recipient`` (BETA)."""
    key, cert = signer or pki.alpha
    return outbound.build_request(
        invoice() if document is None else document,
        user_message=user_message(delivery_id),
        envelope=envelope(delivery_id),
        key=key,
        cert=cert,
        recipient=recipient or pki.beta[1],
    )


def read(
    pki: Pki,
    content_type: str,
    body: bytes,
    *,
    key: rsa.RSAPrivateKey | None = None,
    max_document_bytes: int = 10 * 1024 * 1024,
) -> Received:
    """BETA reading a request, trusting ``pki``'s CA only."""
    return inbound.read_request(
        content_type,
        body,
        key=key or pki.beta[0],
        cert=pki.beta[1],
        party_id=BETA,
        trust=pki.trust(),
        max_document_bytes=max_document_bytes,
    )


def outbound_message(
    message_id: str = "doc-1@" + ALPHA, payload: bytes | None = None
) -> OutboundMessage:
    """What the worker hands a transport: the invoice from SELLER to BUYER."""
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


async def serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    """``routes`` served on a free loopback port; the runner and the /as4 URL."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/as4"
