"""The stand-in exchange between two gateways: a signed HTTP POST.

Until the AS4 issue lands, a document travels as the body of ``POST /as4``
with its routing data in headers and an RSA-SHA256 signature over those
headers and the payload digest. The receiver answers with a signed JSON
receipt, or a signed JSON error saying whether retrying can help.

Sans-IO: no sockets, no clock reads, no id generation. Times and ids are
passed in, so both sides can be tested byte for byte.

Signatures are PKCS#1 v1.5 with SHA-256: deterministic, and the same
primitive as the rsa-sha256 of the XML signatures AS4 will bring. Every
signed text starts with ``PROTOCOL`` and its kind, so a signature over a
request can never pass as one over a receipt or an error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gateway.certs import check_peer_certificate, fingerprint
from gateway.config import Peer
from gateway.errors import GatewayError, InputError, PayloadTooLarge, SecurityError, TransportError
from gateway.transport.base import InboundMessage, OutboundMessage, Receipt

PROTOCOL = "gateway-exchange/1"
MAX_SKEW = timedelta(minutes=10)
CONTENT_TYPE = "application/xml"

H_MESSAGE_ID = "X-Message-Id"
H_FROM_PROVIDER = "X-From-Provider"
H_SENDER = "X-Sender"
H_RECIPIENT = "X-Recipient"
H_DOCUMENT_TYPE = "X-Document-Type"
H_PROCESS = "X-Process"
H_TIMESTAMP = "X-Timestamp"
H_CERTIFICATE = "X-Certificate"
H_PAYLOAD_SHA256 = "X-Payload-Sha256"
H_SIGNATURE = "X-Signature"

# In this order in the signed text.
SIGNED_HEADERS = (
    H_MESSAGE_ID,
    H_FROM_PROVIDER,
    H_SENDER,
    H_RECIPIENT,
    H_DOCUMENT_TYPE,
    H_PROCESS,
    H_TIMESTAMP,
    H_CERTIFICATE,
    H_PAYLOAD_SHA256,
)

PeerLookup = Callable[[str], Peer | None]
PeerCertificate = Callable[[Peer], x509.Certificate | None]


# --- request ---------------------------------------------------------------


def build_request(
    msg: OutboundMessage,
    *,
    from_provider: str,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    now: datetime,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of the POST carrying ``msg`` (InputError when a value
    cannot travel in an HTTP header)."""
    values = {
        H_MESSAGE_ID: msg.message_id,
        H_FROM_PROVIDER: from_provider,
        H_SENDER: msg.sender,
        H_RECIPIENT: msg.recipient,
        H_DOCUMENT_TYPE: msg.document_type,
        H_PROCESS: msg.process,
        H_TIMESTAMP: format_time(now),
        H_CERTIFICATE: _certificate_b64(cert),
        H_PAYLOAD_SHA256: sha256_hex(msg.payload),
    }
    for name, value in values.items():
        _check_header_value(name, value)
    headers = dict(values)
    headers[H_SIGNATURE] = _b64(_sign(key, _request_text(values)))
    headers["Content-Type"] = CONTENT_TYPE
    return headers, msg.payload


def parse_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    peer_lookup: PeerLookup,
    load_peer_cert: PeerCertificate,
    cas: Sequence[x509.Certificate],
    now: datetime,
    max_bytes: int,
    max_skew: timedelta = MAX_SKEW,
) -> tuple[Peer, InboundMessage]:
    """Check a received POST and turn it into an InboundMessage.

    Raises PayloadTooLarge, InputError (a missing or malformed header, named)
    or SecurityError (unknown sender, untrusted certificate, digest or
    signature mismatch, stale timestamp). A replay within ``max_skew`` passes
    here; the receiver's de-duplication by message id answers it.
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"document is {len(body)} bytes; the limit is {max_bytes}")
    values = _request_headers(headers)
    sent_at = _parse_time(values[H_TIMESTAMP], H_TIMESTAMP, InputError)
    provider = values[H_FROM_PROVIDER]
    peer = peer_lookup(provider)
    if peer is None:
        raise SecurityError(f"access point {provider!r} is not one of our peers", reason="unknown")
    signer = _decode_certificate(values[H_CERTIFICATE], H_CERTIFICATE)
    check_peer_certificate(
        signer, pinned=load_peer_cert(peer), cas=cas, expected_cn=peer.provider_id, now=now
    )
    if not hmac.compare_digest(values[H_PAYLOAD_SHA256].lower(), sha256_hex(body)):
        raise SecurityError(f"payload digest mismatch: the body does not match {H_PAYLOAD_SHA256}")
    signature = _b64decode(values[H_SIGNATURE], H_SIGNATURE)
    _verify(signer, signature, _request_text(values), f"signature mismatch: {H_SIGNATURE}")
    # Checked last: only a timestamp the peer really signed is worth reporting.
    _check_fresh(sent_at, now, max_skew)
    return peer, InboundMessage(
        message_id=values[H_MESSAGE_ID],
        peer=peer.name,
        sender=values[H_SENDER],
        recipient=values[H_RECIPIENT],
        document_type=values[H_DOCUMENT_TYPE],
        process=values[H_PROCESS],
        payload=body,
    )


def _request_text(values: Mapping[str, str]) -> bytes:
    # Header values are checked to be printable ASCII without line breaks,
    # so one "name:value" per line is unambiguous.
    lines = [f"{PROTOCOL} request", *(f"{n.lower()}:{values[n]}" for n in SIGNED_HEADERS)]
    return "\n".join(lines).encode("ascii")


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Our headers by canonical name; duplicates are refused rather than
    guessing which copy the signature meant."""
    wanted = {n.lower(): n for n in (*SIGNED_HEADERS, H_SIGNATURE)}
    found: dict[str, str] = {}
    for name, value in headers.items():
        canonical = wanted.get(name.lower())
        if canonical is None:
            continue
        if canonical in found:
            raise InputError(f"header {canonical} appears more than once", header=canonical)
        found[canonical] = value
    for canonical in wanted.values():
        if not found.get(canonical):
            raise InputError(f"missing or empty header {canonical}", header=canonical)
        _check_header_value(canonical, found[canonical])
    return found


def _check_header_value(name: str, value: str) -> None:
    # HTTP strips surrounding blanks and cannot carry line breaks or (portably)
    # non-ASCII, so such a value would not arrive as it was signed.
    if not value or value != value.strip() or not all(" " <= c <= "~" for c in value):
        raise InputError(
            f"header {name} must be non-empty printable ASCII without surrounding blanks",
            header=name,
        )


def _check_fresh(sent_at: datetime, now: datetime, max_skew: timedelta) -> None:
    if abs(now - sent_at) > max_skew:
        raise SecurityError(
            f"stale request: {H_TIMESTAMP} {format_time(sent_at)} is "
            f"{abs(now - sent_at).total_seconds():.0f} s from our clock "
            f"(allowed {max_skew.total_seconds():.0f} s)",
            reason="stale",
        )


# --- receipt ---------------------------------------------------------------


def build_receipt(
    *,
    message_id: str,
    receipt_id: str,
    received_at: datetime,
    payload_sha256: str,
    document_id: str | None = None,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
) -> bytes:
    """The signed JSON receipt for ``message_id``, with the signer's certificate."""
    fields: dict[str, Any] = {
        "message_id": message_id,
        "receipt_id": receipt_id,
        "received_at": format_time(received_at),
        "payload_sha256": payload_sha256,
    }
    if document_id:
        fields["document_id"] = document_id
    return _seal("receipt", fields, key, cert)


def verify_receipt(
    raw: bytes,
    *,
    expected_message_id: str,
    expected_payload_sha256: str,
    peer_cert: x509.Certificate,
) -> Receipt:
    """The Receipt in ``raw``, or SecurityError when it is not signed with
    ``peer_cert`` or acknowledges another message or payload."""
    doc = _open("receipt", raw, peer_cert)
    message_id = _field(doc, "message_id", str)
    if message_id != expected_message_id:
        raise SecurityError(f"receipt is about message {message_id!r}, not {expected_message_id!r}")
    digest = _field(doc, "payload_sha256", str)
    if not hmac.compare_digest(digest.lower(), expected_payload_sha256.lower()):
        raise SecurityError(
            f"receipt covers payload digest {digest}, not {expected_payload_sha256}"
        )
    return Receipt(
        message_id=message_id,
        receipt_id=_field(doc, "receipt_id", str),
        received_at=_parse_time(_field(doc, "received_at", str), "received_at", SecurityError),
        payload_sha256=digest,
        raw=raw,
    )


# --- error answer ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """A peer's signed refusal of a message."""

    code: str  # GatewayError.code, e.g. "not_serviced"
    message: str
    ebms_code: str
    permanent: bool  # False: the same message may succeed later
    message_id: str  # the refused message; "" when the request did not say
    at: datetime


def is_permanent(error: GatewayError) -> bool:
    """Whether resending the same message is pointless.

    A refusal of the message itself (4xx: invalid, unknown recipient,
    untrusted) repeats on every attempt; a failure on our side (5xx) may not.
    """
    if isinstance(error, TransportError):
        return error.permanent
    return 400 <= error.http_status < 500


def build_error(
    error: GatewayError,
    *,
    message_id: str,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    now: datetime,
) -> bytes:
    """The signed JSON error answer for ``error`` (its message is sent as is:
    raise errors whose text is fit for a peer)."""
    fields: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "ebms_code": error.ebms_code,
        "permanent": is_permanent(error),
        "message_id": message_id,
        "at": format_time(now),
    }
    return _seal("error", fields, key, cert)


def parse_error(raw: bytes, *, peer_cert: x509.Certificate) -> ErrorAnswer:
    """The ErrorAnswer in ``raw``, or SecurityError when it is not signed with ``peer_cert``."""
    doc = _open("error", raw, peer_cert)
    return ErrorAnswer(
        code=_field(doc, "code", str),
        message=_field(doc, "message", str),
        ebms_code=_field(doc, "ebms_code", str),
        permanent=_field(doc, "permanent", bool),
        message_id=_field(doc, "message_id", str, empty_ok=True),
        at=_parse_time(_field(doc, "at", str), "at", SecurityError),
    )


def signer_certificate(raw: bytes) -> x509.Certificate:
    """The certificate a receipt or error answer says it is signed with
    (unverified: check it with check_peer_certificate before trusting it)."""
    doc = _load_json(raw)
    value = doc.get("certificate")
    if not isinstance(value, str):
        raise SecurityError("signed answer carries no certificate")
    return _decode_certificate(value, "certificate")


# --- signed JSON -----------------------------------------------------------


def _seal(
    kind: str, fields: dict[str, Any], key: rsa.RSAPrivateKey, cert: x509.Certificate
) -> bytes:
    doc = {"type": kind, **fields, "certificate": _certificate_b64(cert)}
    doc["signature"] = _b64(_sign(key, _json_text(kind, doc)))
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")


def _open(kind: str, raw: bytes, cert: x509.Certificate) -> dict[str, Any]:
    doc = _load_json(raw)
    if doc.get("type") != kind:
        raise SecurityError(f"not a {kind}: type is {doc.get('type')!r}")
    signature = _b64decode(_field(doc, "signature", str), f"{kind} signature")
    del doc["signature"]
    embedded = _decode_certificate(_field(doc, "certificate", str), f"{kind} certificate")
    if fingerprint(embedded) != fingerprint(cert):
        raise SecurityError(
            f"{kind} is signed with certificate {fingerprint(embedded)}, "
            f"not the peer's certificate {fingerprint(cert)}"
        )
    _verify(cert, signature, _json_text(kind, doc), f"{kind} signature does not verify")
    return doc


def _json_text(kind: str, doc: Mapping[str, Any]) -> bytes:
    # The verifier re-serialises what it parsed, so what is verified is
    # exactly what is used, whatever spacing the signer chose.
    body = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{PROTOCOL} {kind}\n{body}".encode("ascii")


def _load_json(raw: bytes) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(obj := dict(pairs)) != len(pairs):
            raise ValueError("duplicate key")
        return obj

    try:
        doc = json.loads(raw, object_pairs_hook=no_duplicates)
    except (ValueError, UnicodeDecodeError):
        raise SecurityError("signed answer is not valid JSON (or repeats a key)") from None
    if not isinstance(doc, dict):
        raise SecurityError("signed answer is not a JSON object")
    return doc


def _field(doc: Mapping[str, Any], name: str, kind: type[Any], *, empty_ok: bool = False) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or (kind is str and not value and not empty_ok):
        raise SecurityError(f"signed answer: field {name!r} is missing or not a {kind.__name__}")
    return value


# --- primitives ------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format_time(t: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: 2026-01-31T12:00:00Z."""
    if t.tzinfo is None:
        raise ValueError("times on the wire must be timezone-aware")
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(text: str, what: str, error: type[GatewayError]) -> datetime:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise error(f"{what} is not an ISO 8601 time: {text!r}") from None
    if t.tzinfo is None:
        raise error(f"{what} has no time zone: {text!r}")
    return t


def _sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _verify(cert: x509.Certificate, signature: bytes, data: bytes, failure: str) -> None:
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise SecurityError(f"{failure}: only RSA certificates are supported")
    try:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SecurityError(failure, reason="signature") from None


def _certificate_b64(cert: x509.Certificate) -> str:
    return _b64(cert.public_bytes(serialization.Encoding.DER))


def _decode_certificate(text: str, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(_b64decode(text, what))
    except ValueError:
        raise SecurityError(f"{what} is not a DER certificate") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SecurityError(f"{what} is not valid base64") from None
