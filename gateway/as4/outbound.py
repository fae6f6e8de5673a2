"""Build a complete Peppol AS4 request: envelope, compression, signature,
encryption and MIME packaging, in the profile's order (compress, sign,
encrypt).

Sans-IO: times, ids and randomness come in; the result is the HTTP headers
and the body as chunks, so a large attachment is never joined into a
second copy of itself.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from gateway.as4 import message, mime, ns, payload, sbdh, wssec
from gateway.as4.message import PartInfo, UserMessage

# Namespace for the ids derived from a delivery's message id (RFC 4122 §4.3).
_ID_NAMESPACE = uuid.UUID("5f0c2b8e-8d1f-4c43-9b61-3c1e0a4e7a52")
_MSGID_RIGHT = "as4.gateway"


@dataclass(frozen=True, slots=True)
class Request:
    message_id: str
    instance_id: str  # the SBDH InstanceIdentifier
    content_type: str
    chunks: tuple[bytes | memoryview, ...]
    references: tuple[wssec.Reference, ...]  # what we signed: the receipt must echo these

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, "MIME-Version": "1.0"}

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)

    def body(self) -> bytes:
        """The body in one piece (tests and small messages)."""
        return b"".join(self.chunks)


def ebms_message_id(delivery_id: str) -> str:
    """The ebMS MessageId for a delivery: the delivery's own id when it has
    the msg-id form ebMS 3 Core §5.2.2.1 asks for, else one derived from it.
    Either way every retry of the delivery carries the same one."""
    left, at, right = delivery_id.partition("@")
    if at and left and right and all(_msgid_char(c) for c in left + right):
        return delivery_id
    return f"{uuid.uuid5(_ID_NAMESPACE, 'message:' + delivery_id)}@{_MSGID_RIGHT}"


def instance_id(delivery_id: str) -> str:
    """The SBDH InstanceIdentifier (a UUID) for a delivery, stable across retries."""
    return str(uuid.uuid5(_ID_NAMESPACE, "sbdh:" + delivery_id))


def conversation_id(delivery_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "conversation:" + delivery_id))


def _msgid_char(c: str) -> bool:
    # RFC 5322 dot-atom text: printable ASCII except specials.
    return "!" <= c <= "~" and c not in '()<>[]:;@\\,"'


def build_request(
    document: bytes | memoryview,
    *,
    user_message: UserMessage,
    envelope: sbdh.Sbdh,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    recipient: x509.Certificate,
    random: Callable[[int], bytes] = os.urandom,
) -> Request:
    """The signed and encrypted request carrying ``document`` in ``envelope``.

    ``user_message`` gives the ebMS header without parts (they are added
    here); ``recipient`` is the certificate the attachment is encrypted to.
    """
    head, tail = sbdh.envelope_parts(envelope)
    session_key = random(16)
    sealed = payload.seal((head, sbdh.strip_prolog(document), tail), key=session_key, iv=random(12))
    return assemble(
        sealed,
        session_key,
        user_message=user_message,
        instance_id=envelope.instance_id,
        key=key,
        cert=cert,
        recipient=recipient,
        random=random,
    )


def assemble(
    sealed: payload.Sealed,
    session_key: bytes,
    *,
    user_message: UserMessage,
    instance_id: str,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    recipient: x509.Certificate,
    compressed: bool = True,
    random: Callable[[int], bytes] = os.urandom,
) -> Request:
    """Header, signature and MIME packaging around an already sealed payload."""
    tag = hashlib.sha256(user_message.message_id.encode()).hexdigest()[:24]
    cid, root_id = f"sbd-{tag}@{_MSGID_RIGHT}", f"soap-{tag}@{_MSGID_RIGHT}"
    properties = {"MimeType": "application/xml"}
    if compressed:
        properties["CompressionType"] = ns.GZIP
    part = PartInfo("cid:" + cid, properties)
    root, header, security, body = message.envelope()
    # Encryption elements first: a receiver works through the header in order.
    media = ns.GZIP if compressed else "application/xml"
    wssec.encrypt_key(security, recipient=recipient, session_key=session_key, parts=[(cid, media)])
    messaging = message.messaging(header)
    message.add_user_message(messaging, replace(user_message, parts=(part,)))
    refs = wssec.sign(
        security, key=key, cert=cert, elements=[messaging, body], attachments=[(cid, sealed.digest)]
    )
    content_type, chunks = mime.build(
        etree.tostring(root),
        [(cid, "application/octet-stream", sealed.ciphertext)],
        boundary="MIMEBoundary_" + random(12).hex(),
        root_id=root_id,
    )
    return Request(
        message_id=user_message.message_id,
        instance_id=instance_id,
        content_type=content_type,
        chunks=tuple(chunks),
        references=tuple(refs),
    )


def user_message(
    *,
    delivery_id: str,
    now: datetime,
    from_party: str,
    to_party: str,
    sender: str,
    recipient: str,
    document_type: str,
    process: str,
) -> UserMessage:
    """The ebMS header of a delivery, with its ids derived from ``delivery_id``."""
    return UserMessage(
        message_id=ebms_message_id(delivery_id),
        timestamp=now,
        conversation_id=conversation_id(delivery_id),
        from_party=from_party,
        to_party=to_party,
        process=process,
        document_type=document_type,
        original_sender=sender,
        final_recipient=recipient,
    )
