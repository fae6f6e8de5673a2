"""Valid inputs to start mutating from, built here (nothing is read from disk).

A coverage-guided fuzzer finds far more from a valid message than from
random bytes: most mutations of a valid message get past the first checks.
Keys and certificates are made once per process; certificates are valid
around the real current time, as the readers check them against it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.as4 import mime, outbound, sbdh
from gateway.model import (
    BIS3_CUSTOMIZATION,
    BIS3_PROCESS,
    DocumentKind,
    ParticipantId,
    document_type_id,
)
from gateway.pki import certificates as certs
from gateway.samples import sample_document

SENDER_AP = "POP000101"
RECEIVER_AP = "POP000202"
SELLER = ParticipantId("0088", "5790000435951")
BUYER = ParticipantId("0088", "5790000436057")
DOCTYPE = document_type_id(DocumentKind.INVOICE, BIS3_CUSTOMIZATION)
DELIVERY_ID = "fuzz-1@" + SENDER_AP


@dataclass(frozen=True)
class Keys:
    ca: certs.KeyPair
    sender: certs.KeyPair
    receiver: certs.KeyPair
    now: datetime

    def trust(self) -> Callable[[x509.Certificate, str], None]:
        def check(cert: x509.Certificate, party: str) -> None:
            certs.check_peer_certificate(
                cert, pinned=None, cas=[self.ca[1]], expected_cn=party, now=self.now
            )

        return check

    @property
    def receiver_key(self) -> rsa.RSAPrivateKey:
        return self.receiver[0]


@functools.cache
def keys() -> Keys:
    now = datetime.now(UTC).replace(microsecond=0)
    ca = certs.create_dev_ca(now=now - timedelta(days=30))
    return Keys(
        ca=ca,
        sender=certs.issue_ap_certificate(ca, SENDER_AP, now=now - timedelta(days=1), days=365),
        receiver=certs.issue_ap_certificate(ca, RECEIVER_AP, now=now - timedelta(days=1), days=365),
        now=now,
    )


@functools.cache
def invoice() -> bytes:
    return sample_document(DocumentKind.INVOICE, seller=SELLER, buyer=BUYER)


def envelope_header() -> sbdh.Sbdh:
    return sbdh.Sbdh(
        sender=str(SELLER),
        receiver=str(BUYER),
        document_type=DOCTYPE,
        process=BIS3_PROCESS,
        country_c1="DK",
        instance_id=outbound.instance_id(DELIVERY_ID),
        created_at=keys().now,
    )


@functools.cache
def signed_request() -> tuple[str, bytes]:
    """A complete, valid AS4 request to the receiver: (Content-Type, body)."""
    k = keys()
    request = outbound.build_request(
        invoice(),
        user_message=outbound.user_message(
            delivery_id=DELIVERY_ID,
            now=k.now,
            from_party=SENDER_AP,
            to_party=RECEIVER_AP,
            sender=str(SELLER),
            recipient=str(BUYER),
            document_type=DOCTYPE,
            process=BIS3_PROCESS,
        ),
        envelope=envelope_header(),
        key=k.sender[0],
        cert=k.sender[1],
        recipient=k.receiver[1],
    )
    return request.content_type, request.body()


@functools.cache
def multipart() -> tuple[str, bytes]:
    """A small multipart/related body: (Content-Type, body)."""
    soap = b"<S12:Envelope xmlns:S12='http://www.w3.org/2003/05/soap-envelope'/>"
    ctype, chunks = mime.build(
        soap,
        [("att@x", "application/octet-stream", b"\x1f\x8b" + bytes(range(256)))],
        boundary="b-1",
        root_id="root@x",
    )
    return ctype, b"".join(chunks)


@functools.cache
def sbdh_envelope() -> bytes:
    return sbdh.wrap(envelope_header(), invoice())
