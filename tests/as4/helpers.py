"""Shared keys, certificates and message builders for the AS4 tests.

Certificates are valid around the real current time: the ``as4`` package
checks validity against its own clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.as4 import inbound, outbound, sbdh
from gateway.as4.inbound import Received
from gateway.as4.outbound import Request
from gateway.model import BIS3_CUSTOMIZATION, BIS3_PROCESS, DocumentKind, ParticipantId
from gateway.model import document_type_id as _doctype
from gateway.pki import certificates as certs
from gateway.samples import sample_document

NOW = datetime.now(UTC).replace(microsecond=0)
ALPHA = "POP000101"  # the sending access point
BETA = "POP000202"  # the receiving access point
SELLER = ParticipantId("0088", "5790000435951")
BUYER = ParticipantId("0088", "5790000436057")
DOCTYPE = _doctype(DocumentKind.INVOICE, BIS3_CUSTOMIZATION)
PROCESS = BIS3_PROCESS


@dataclass(frozen=True)
class Pki:
    ca: certs.KeyPair
    alpha: certs.KeyPair
    beta: certs.KeyPair
    rogue_ca: certs.KeyPair  # same name as ``ca``, another key: untrusted
    rogue_alpha: certs.KeyPair  # CN ALPHA, issued by the rogue CA
    expired_alpha: certs.KeyPair

    def trust(self, *, at: datetime | None = None) -> Callable[[x509.Certificate, str], None]:
        def check(cert: x509.Certificate, party: str) -> None:
            certs.check_peer_certificate(
                cert, pinned=None, cas=[self.ca[1]], expected_cn=party, now=at or NOW
            )

        return check


def make_pki() -> Pki:
    ca = certs.create_dev_ca(now=NOW - timedelta(days=30))
    rogue = certs.create_dev_ca(now=NOW - timedelta(days=30))
    return Pki(
        ca=ca,
        alpha=certs.issue_ap_certificate(ca, ALPHA, now=NOW - timedelta(days=1), days=365),
        beta=certs.issue_ap_certificate(ca, BETA, now=NOW - timedelta(days=1), days=365),
        rogue_ca=rogue,
        rogue_alpha=certs.issue_ap_certificate(rogue, ALPHA, now=NOW - timedelta(days=1), days=365),
        expired_alpha=certs.issue_ap_certificate(ca, ALPHA, now=NOW - timedelta(days=20), days=10),
    )


def invoice() -> bytes:
    return sample_document(DocumentKind.INVOICE, seller=SELLER, buyer=BUYER)


def envelope(delivery_id: str = "doc-1@" + ALPHA, **changes: object) -> sbdh.Sbdh:
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


def user_message(delivery_id: str = "doc-1@" + ALPHA, **changes: str) -> outbound.UserMessage:
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
    return inbound.read_request(
        content_type,
        body,
        key=key or pki.beta[0],
        cert=pki.beta[1],
        party_id=BETA,
        trust=pki.trust(),
        max_document_bytes=max_document_bytes,
    )
