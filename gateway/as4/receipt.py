"""Signal messages: the signed non-repudiation receipt and the signed ebMS
error, built by the receiver and checked by the sender.

AS4 profile §5.1.8 / CEF eDelivery AS4 1.14 §2.2.6.3: the receipt carries
an ``ebbp:NonRepudiationInformation`` with one ``MessagePartNRInformation``
per ds:Reference of the received message's signature, copied as signed.
Errors are signed too: Domibus and others distrust unsigned ones.
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from gateway.as4 import message, mime, ns, wssec
from gateway.as4.errors import ErrorInfo, FailedAuthentication, InvalidHeader, error_info
from gateway.as4.ns import EB, EBBP, q, sub
from gateway.errors import GatewayError

CONTENT_TYPE = "application/soap+xml; charset=UTF-8"


def build_receipt(
    *,
    ref_to_message_id: str,
    references: Sequence[etree._Element],
    receipt_id: str,
    now: datetime,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
) -> bytes:
    """A signed receipt for ``ref_to_message_id`` echoing its signed ``references``."""
    root, signal, security, body, messaging = _signal(receipt_id, ref_to_message_id, now)
    nri = sub(sub(signal, EB, "Receipt"), EBBP, "NonRepudiationInformation")
    for ref in references:
        part = sub(nri, EBBP, "MessagePartNRInformation")
        echoed = copy.deepcopy(ref)
        echoed.attrib.pop("Id", "")  # its Id belongs to the other message's document
        part.append(echoed)
    wssec.sign(security, key=key, cert=cert, elements=[messaging, body])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_error(
    error: ErrorInfo,
    *,
    signal_id: str,
    now: datetime,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
) -> bytes:
    """A signed ebMS error signal; RefToMessageId names the refused message
    when it could be read, so that its sender can match the answer."""
    root, signal, security, body, messaging = _signal(signal_id, error.ref_to_message_id, now)
    el = sub(signal, EB, "Error")
    el.set("errorCode", error.code)
    el.set("severity", error.severity)
    el.set("category", error.category)
    el.set("origin", error.origin)
    el.set("shortDescription", error.short_description)
    if error.ref_to_message_id:
        el.set("refToMessageInError", error.ref_to_message_id)
    if error.description:
        sub(el, EB, "Description", error.description).set(q(ns.XML, "lang"), "en")
    sub(el, EB, "ErrorDetail", error.detail)
    wssec.sign(security, key=key, cert=cert, elements=[messaging, body])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_refusal(
    exc: GatewayError,
    *,
    ref_to_message_id: str,
    signal_id: str,
    now: datetime,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
) -> bytes:
    """The signed ebMS error answering a request refused with ``exc``."""
    info = error_info(exc, ref_to_message_id=ref_to_message_id)
    return build_error(info, signal_id=signal_id, now=now, key=key, cert=cert)


def _signal(
    signal_id: str, ref_to: str, now: datetime
) -> tuple[etree._Element, etree._Element, etree._Element, etree._Element, etree._Element]:
    root, header, security, body = message.envelope()
    messaging = message.messaging(header)
    signal = sub(messaging, EB, "SignalMessage")
    info = sub(signal, EB, "MessageInfo")
    sub(info, EB, "Timestamp", message.timestamp(now))
    sub(info, EB, "MessageId", signal_id)
    if ref_to:
        sub(info, EB, "RefToMessageId", ref_to)
    return root, signal, security, body, messaging


# --- reading ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signal:
    """A verified signal: signed by the expected certificate over eb:Messaging."""

    signal_id: str
    ref_to_message_id: str
    timestamp: datetime
    errors: tuple[ErrorInfo, ...]
    acknowledged: tuple[wssec.Reference, ...] | None  # None: not a receipt
    raw: bytes


def read_signal(content_type: str | None, body: bytes, *, signer: x509.Certificate) -> Signal:
    """Parse and verify a receipt or error signal. Raises FailedAuthentication
    when it is not signed by ``signer`` (the certificate we encrypted to), or
    an As4Error when it is not a readable signal."""
    parts = mime.parse(content_type, body)
    env = message.read_envelope(ns.parse_xml(parts.root.content, "the signal"))
    if env.security is None:
        raise FailedAuthentication("the signal is not signed")
    ids = wssec.index_ids(env.root)
    sig = wssec.read_signature(env.security, ids)
    if sig.certificate.fingerprint(hashes.SHA256()) != signer.fingerprint(hashes.SHA256()):
        raise FailedAuthentication("the signal is signed with another certificate than the peer's")
    wssec.verify(sig, signer)
    wssec.check_element_references(sig, ids, {"eb:Messaging": env.messaging})
    signals = ns.children(env.messaging, EB, "SignalMessage")
    if len(signals) != 1 or ns.children(env.messaging, EB, "UserMessage"):
        raise InvalidHeader("the answer is not exactly one signal message")
    signal = signals[0]
    info = signal.find(q(EB, "MessageInfo"))
    if info is None:
        raise InvalidHeader("the signal has no MessageInfo")
    receipt = signal.find(q(EB, "Receipt"))
    ref_to = ns.text(info.find(q(EB, "RefToMessageId")))
    return Signal(
        signal_id=ns.text(info.find(q(EB, "MessageId"))),
        ref_to_message_id=ref_to,
        timestamp=message.parse_time(ns.text(info.find(q(EB, "Timestamp")))),
        errors=tuple(_error(e, ref_to) for e in ns.children(signal, EB, "Error")),
        acknowledged=None if receipt is None else _acknowledged(receipt),
        raw=body,
    )


def check_receipt(
    signal: Signal, *, message_id: str, references: Sequence[wssec.Reference]
) -> None:
    """The receipt is about our message and acknowledges exactly what we signed."""
    if signal.errors or signal.acknowledged is None:
        raise FailedAuthentication("the signal is not a receipt")
    if signal.ref_to_message_id != message_id:
        raise FailedAuthentication(
            f"the receipt is about message {signal.ref_to_message_id!r}, not {message_id!r}"
        )
    ours = {(r.uri, r.digest_method, r.digest) for r in references}
    theirs = [(r.uri, r.digest_method, r.digest) for r in signal.acknowledged]
    missing = [uri for uri, method, digest in ours if not _has(theirs, uri, method, digest)]
    if missing:
        raise FailedAuthentication(f"the receipt does not acknowledge {', '.join(sorted(missing))}")
    extra = [uri for uri, method, digest in theirs if not _has(list(ours), uri, method, digest)]
    if extra:
        raise FailedAuthentication(f"the receipt acknowledges what we did not send: {extra}")


def _has(refs: list[tuple[str, str, bytes]], uri: str, method: str, digest: bytes) -> bool:
    return any(u == uri and m == method and hmac.compare_digest(d, digest) for u, m, d in refs)


def _acknowledged(receipt: etree._Element) -> tuple[wssec.Reference, ...]:
    path = "ebbp:NonRepudiationInformation/ebbp:MessagePartNRInformation/ds:Reference"
    found = receipt.iterfind(path, namespaces={"ebbp": EBBP, "ds": ns.DS})
    return tuple(wssec.read_reference(el) for el in found)


def _error(el: etree._Element, ref_to: str) -> ErrorInfo:
    return ErrorInfo(
        code=el.get("errorCode", ""),
        detail=ns.text(el.find(q(EB, "ErrorDetail"))),
        severity=el.get("severity", "failure"),
        category=el.get("category", ""),
        short_description=el.get("shortDescription", ""),
        description=ns.text(el.find(q(EB, "Description"))),
        origin=el.get("origin", ""),
        ref_to_message_id=el.get("refToMessageInError", "") or ref_to,
    )
