"""Read a Peppol AS4 request: MIME, envelope, trust, signature, decryption,
decompression and the SBDH, in the reverse of the sender's order.

Tolerant in what is parsed (see mime.py), strict in what is verified: one
signature with the profile's algorithms, covering the very eb:Messaging and
Body read here and every payload; the signer trusted by the caller's
``trust`` callback before anything it signed is believed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from gateway.as4 import message, mime, ns, payload, sbdh, wssec
from gateway.as4.errors import InvalidEnvelope, PModeMismatch, PolicyNoncompliance
from gateway.as4.message import UserMessage

# trust(certificate, from_party) raises a GatewayError (EBMS:0101) to refuse.
Trust = Callable[[x509.Certificate, str], None]
# Room for the SBDH around a document of the maximum size.
ENVELOPE_OVERHEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    user_message: UserMessage
    envelope: sbdh.Sbdh
    document: bytes
    signer: x509.Certificate
    references: tuple[etree._Element, ...]  # the signed ds:References, echoed in the receipt


def read_request(
    content_type: str | None,
    body: bytes | memoryview,
    *,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    party_id: str,
    trust: Trust,
    max_document_bytes: int,
    random: Callable[[int], bytes] = os.urandom,
) -> Received:
    """Check and open one request addressed to access point ``party_id``.

    Raises an As4Error (or whatever ``trust`` raises) naming the ebMS error
    to answer with.
    """
    parts = mime.parse(content_type, body)
    env = message.read_envelope(ns.parse_xml(parts.root.content, "the SOAP envelope"))
    um = message.read_user_message(env.messaging)
    if um.to_party != party_id:
        raise PModeMismatch(f"the message is addressed to access point {um.to_party!r}, not to us")
    if env.security is None:
        raise PolicyNoncompliance("the message has no WS-Security header")
    ids = wssec.index_ids(env.root)
    sig = wssec.read_signature(env.security, ids)
    trust(sig.certificate, um.from_party)
    wssec.verify(sig, sig.certificate)
    wssec.check_element_references(
        sig, ids, {"eb:Messaging": env.messaging, "the SOAP Body": env.body}
    )
    part = um.parts[0]
    attachment = parts.attachment(part.href)
    if attachment is None:
        raise PModeMismatch(f"no MIME part for {part.href}")
    cid = attachment.content_id
    ref = wssec.attachment_reference(sig, cid)
    session_key, encrypted = wssec.open_session_key(
        env.security, ids, key=key, cert=cert, random=random
    )
    if cid not in encrypted:
        raise PolicyNoncompliance(f"attachment {part.href} is not encrypted")
    reader = sbdh.Unwrapper(max_bytes=max_document_bytes + ENVELOPE_OVERHEAD)
    payload.unseal(
        attachment.content,
        key=session_key,
        expected_digest=ref.digest,
        sink=reader,
        compressed=part.compressed,
        max_bytes=max_document_bytes + ENVELOPE_OVERHEAD,
    )
    header, document = reader.finish()
    _check_agreement(um, header)
    return Received(um, header, document, sig.certificate, sig.reference_elements)


def peek_message_id(content_type: str | None, body: bytes | memoryview) -> str:
    """The request's MessageId when it can be read at all, else "": an error
    answer names the message it refuses whenever it can."""
    try:
        parts = mime.parse(content_type, body)
        env = message.read_envelope(ns.parse_xml(parts.root.content, "the SOAP envelope"))
    except Exception:
        return ""
    found = message.peek_message_id(env.messaging)
    return found if len(found) <= 256 else ""


def _check_agreement(um: UserMessage, header: sbdh.Sbdh) -> None:
    """The ebMS header and the SBDH must tell the same story (Peppol AS4
    2.0.3 §5: originalSender/finalRecipient are copies of the SBDH's)."""
    pairs = (
        ("originalSender", um.original_sender.lower(), header.sender.lower()),
        ("finalRecipient", um.final_recipient.lower(), header.receiver.lower()),
        ("Action", um.document_type, header.document_type),
        ("Service", um.process, header.process),
    )
    for what, ebms, envelope in pairs:
        if ebms != envelope:
            raise InvalidEnvelope(f"the ebMS {what} {ebms!r} differs from the SBDH's {envelope!r}")
