from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from multidict import CIMultiDict

from gateway.certs import KeyPair, generate_key, issue_ap_certificate
from gateway.config import Peer
from gateway.errors import (
    GatewayError,
    InputError,
    NotServiced,
    PayloadTooLarge,
    SecurityError,
    StoreError,
    TransportError,
)
from gateway.transport.base import OutboundMessage
from gateway.transport.exchange import (
    H_CERTIFICATE,
    H_FROM_PROVIDER,
    H_PAYLOAD_SHA256,
    H_RECIPIENT,
    H_SIGNATURE,
    H_TIMESTAMP,
    SIGNED_HEADERS,
    build_error,
    build_receipt,
    build_request,
    format_time,
    parse_error,
    parse_request,
    sha256_hex,
    signer_certificate,
    verify_receipt,
)

from .conftest import ALPHA, BETA, NOW

PAYLOAD = b"<Invoice>42</Invoice>"
MESSAGE = OutboundMessage(
    message_id="msg-1",
    document_id="doc-1",
    sender="0088:5790000000001",
    recipient="0088:7300010000001",
    document_type="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1",
    process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
    payload=PAYLOAD,
)
ALPHA_PEER = Peer(
    name="alpha",
    provider_id=ALPHA,
    endpoint="http://alpha.invalid/as4",
    certificate=Path("alpha.pem"),
    participants=(),
)


def _request(sender: KeyPair, **kw: Any) -> tuple[dict[str, str], bytes]:
    key, cert = sender
    msg = kw.pop("msg", MESSAGE)
    args: dict[str, Any] = {"from_provider": ALPHA, "key": key, "cert": cert, "now": NOW}
    args.update(kw)
    return build_request(msg, **args)


def _parse(
    headers: Any,
    body: bytes,
    ca: KeyPair,
    *,
    pinned: x509.Certificate | None = None,
    **kw: Any,
) -> Any:
    args: dict[str, Any] = {
        "peer_lookup": {ALPHA: ALPHA_PEER}.get,
        "load_peer_cert": lambda peer: pinned,
        "cas": [ca[1]],
        "now": NOW,
        "max_bytes": 1000,
    }
    args.update(kw)
    return parse_request(headers, body, **args)


# --- request ---------------------------------------------------------------


def test_request_round_trip(ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    assert headers["Content-Type"] == "application/xml"
    assert body == PAYLOAD
    peer, inbound = _parse(headers, body, ca, pinned=alpha[1])
    assert peer is ALPHA_PEER
    assert inbound.peer == "alpha"
    assert (inbound.message_id, inbound.sender, inbound.recipient) == (
        MESSAGE.message_id,
        MESSAGE.sender,
        MESSAGE.recipient,
    )
    assert (inbound.document_type, inbound.process) == (MESSAGE.document_type, MESSAGE.process)
    assert inbound.payload == PAYLOAD


def test_header_names_are_case_insensitive(ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    _parse({k.lower(): v for k, v in headers.items()}, body, ca)


def test_request_is_deterministic(alpha: KeyPair) -> None:
    assert _request(alpha) == _request(alpha)


def test_tampered_body(ca: KeyPair, alpha: KeyPair) -> None:
    headers, _ = _request(alpha)
    with pytest.raises(SecurityError, match="payload digest mismatch"):
        _parse(headers, b"<Invoice>43</Invoice>", ca)


# The certificate and provider are not here: changing them changes who is
# checked (see the impostor and unknown provider tests).
@pytest.mark.parametrize(
    "header", [h for h in SIGNED_HEADERS if h not in (H_CERTIFICATE, H_FROM_PROVIDER)]
)
def test_tampered_header(header: str, ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    if header == H_PAYLOAD_SHA256:
        body = b"<Invoice>43</Invoice>"
        headers[header] = sha256_hex(body)
    elif header == H_TIMESTAMP:
        headers[header] = format_time(NOW + timedelta(seconds=1))
    else:
        headers[header] = headers[header] + "x"
    with pytest.raises(SecurityError, match="signature mismatch"):
        _parse(headers, body, ca)


def test_wrong_signer_key(ca: KeyPair, alpha: KeyPair) -> None:
    # Alpha's certificate, someone else's key.
    headers, body = _request((generate_key(), alpha[1]))
    with pytest.raises(SecurityError, match="signature mismatch"):
        _parse(headers, body, ca)


def test_impostor_from_another_ca(ca: KeyPair, other_ca: KeyPair) -> None:
    headers, body = _request(issue_ap_certificate(other_ca, ALPHA, now=NOW, days=1))
    with pytest.raises(SecurityError, match="not issued by a trusted CA"):
        _parse(headers, body, ca)


def test_another_access_point_cannot_speak_for_alpha(ca: KeyPair, beta: KeyPair) -> None:
    headers, body = _request(beta)  # claims to be ALPHA, signs as BETA
    with pytest.raises(SecurityError, match="is for access point 'PBETA001'"):
        _parse(headers, body, ca)


def test_pinned_certificate_mismatch(ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    other = issue_ap_certificate(ca, ALPHA, now=NOW, days=1)[1]
    with pytest.raises(SecurityError, match="not the pinned certificate"):
        _parse(headers, body, ca, pinned=other)


def test_unknown_provider(ca: KeyPair, beta: KeyPair) -> None:
    headers, body = _request(beta, from_provider=BETA)
    with pytest.raises(SecurityError, match="'PBETA001' is not one of our peers") as info:
        _parse(headers, body, ca)
    assert info.value.http_status == 403


@pytest.mark.parametrize("offset", [timedelta(minutes=-11), timedelta(minutes=11)])
def test_stale_timestamp(offset: timedelta, ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha, now=NOW + offset)
    with pytest.raises(SecurityError, match="stale request"):
        _parse(headers, body, ca)


def test_skew_is_configurable(ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha, now=NOW - timedelta(minutes=9))
    _parse(headers, body, ca)
    with pytest.raises(SecurityError, match="stale request"):
        _parse(headers, body, ca, max_skew=timedelta(minutes=1))


@pytest.mark.parametrize("header", [*SIGNED_HEADERS, H_SIGNATURE])
def test_missing_header_is_named(header: str, ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    del headers[header]
    with pytest.raises(InputError, match=f"missing or empty header {header}") as info:
        _parse(headers, body, ca)
    assert info.value.http_status == 400


def test_duplicated_header(ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    doubled = CIMultiDict(headers)
    doubled.add(H_RECIPIENT.lower(), "0088:1111111111111")
    with pytest.raises(InputError, match=f"{H_RECIPIENT} appears more than once"):
        _parse(doubled, body, ca)


@pytest.mark.parametrize(
    ("header", "value", "error"),
    [
        (H_TIMESTAMP, "yesterday", InputError),
        (H_CERTIFICATE, "not base64!", SecurityError),
        (H_CERTIFICATE, "AAAA", SecurityError),
        (H_SIGNATURE, "***", SecurityError),
    ],
)
def test_malformed_header(
    header: str, value: str, error: type[Exception], ca: KeyPair, alpha: KeyPair
) -> None:
    headers, body = _request(alpha)
    headers[header] = value
    with pytest.raises(error):
        _parse(headers, body, ca)


def test_body_over_the_limit(ca: KeyPair, alpha: KeyPair) -> None:
    headers, body = _request(alpha)
    with pytest.raises(PayloadTooLarge):
        _parse(headers, body, ca, max_bytes=len(body) - 1)


def test_values_that_cannot_travel_in_a_header(alpha: KeyPair) -> None:
    msg = OutboundMessage(**{**_fields(MESSAGE), "sender": "0088:Ærø"})
    with pytest.raises(InputError, match="X-Sender must be"):
        _request(alpha, msg=msg)


def _fields(msg: OutboundMessage) -> dict[str, Any]:
    return {k: getattr(msg, k) for k in msg.__slots__}


# --- receipt ---------------------------------------------------------------


def _receipt(signer: KeyPair, **kw: Any) -> bytes:
    args: dict[str, Any] = {
        "message_id": "msg-1",
        "receipt_id": "rcpt-1",
        "received_at": NOW,
        "payload_sha256": sha256_hex(PAYLOAD),
        "document_id": "in-7",
        "key": signer[0],
        "cert": signer[1],
    }
    args.update(kw)
    return build_receipt(**args)


def _verify(raw: bytes, peer_cert: x509.Certificate, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "expected_message_id": "msg-1",
        "expected_payload_sha256": sha256_hex(PAYLOAD),
        "peer_cert": peer_cert,
    }
    args.update(kw)
    return verify_receipt(raw, **args)


def test_receipt_round_trip(beta: KeyPair) -> None:
    raw = _receipt(beta)
    receipt = _verify(raw, beta[1])
    assert (receipt.message_id, receipt.receipt_id) == ("msg-1", "rcpt-1")
    assert receipt.received_at == NOW
    assert receipt.payload_sha256 == sha256_hex(PAYLOAD)
    assert receipt.raw == raw
    assert json.loads(raw)["document_id"] == "in-7"
    assert signer_certificate(raw) == beta[1]


def test_receipt_signed_by_someone_else(alpha: KeyPair, beta: KeyPair) -> None:
    with pytest.raises(SecurityError, match="not the peer's certificate"):
        _verify(_receipt(alpha), beta[1])


def test_receipt_with_the_peer_certificate_but_another_key(beta: KeyPair) -> None:
    with pytest.raises(SecurityError, match="receipt signature does not verify"):
        _verify(_receipt((generate_key(), beta[1])), beta[1])


def test_receipt_about_another_message(beta: KeyPair) -> None:
    with pytest.raises(SecurityError, match="about message 'msg-2', not 'msg-1'"):
        _verify(_receipt(beta, message_id="msg-2"), beta[1])


def test_receipt_for_another_payload(beta: KeyPair) -> None:
    with pytest.raises(SecurityError, match="covers payload digest"):
        _verify(_receipt(beta, payload_sha256=sha256_hex(b"other")), beta[1])


def test_tampered_receipt(beta: KeyPair) -> None:
    doc = json.loads(_receipt(beta))
    doc["receipt_id"] = "rcpt-2"
    with pytest.raises(SecurityError, match="receipt signature does not verify"):
        _verify(json.dumps(doc).encode(), beta[1])


def test_reformatted_receipt_still_verifies(beta: KeyPair) -> None:
    raw = json.dumps(json.loads(_receipt(beta)), indent=2).encode()
    assert _verify(raw, beta[1]).receipt_id == "rcpt-1"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>502</html>", "not valid JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"type":"receipt","type":"receipt"}', "repeats a key"),
        (b'{"type":"receipt"}', "'signature' is missing"),
    ],
)
def test_malformed_receipt(raw: bytes, message: str, beta: KeyPair) -> None:
    with pytest.raises(SecurityError, match=message):
        _verify(raw, beta[1])


def test_error_answer_is_not_a_receipt(beta: KeyPair) -> None:
    raw = build_error(NotServiced("no"), message_id="msg-1", key=beta[0], cert=beta[1], now=NOW)
    with pytest.raises(SecurityError, match="not a receipt"):
        _verify(raw, beta[1])


# --- error answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (NotServiced("recipient not served here"), True),
        (InputError("bad"), True),
        (SecurityError("untrusted"), True),
        (PayloadTooLarge("big"), True),
        (StoreError("down"), False),
        (GatewayError("internal error"), False),
        (TransportError("relay failed", permanent=True), True),
        (TransportError("relay failed"), False),
    ],
)
def test_error_round_trip(error: GatewayError, permanent: bool, beta: KeyPair) -> None:
    raw = build_error(error, message_id="msg-1", key=beta[0], cert=beta[1], now=NOW)
    answer = parse_error(raw, peer_cert=beta[1])
    assert answer.permanent is permanent
    assert (answer.code, answer.message, answer.ebms_code) == (
        error.code,
        error.message,
        error.ebms_code,
    )
    assert (answer.message_id, answer.at) == ("msg-1", NOW)


def test_error_about_an_unnamed_message(beta: KeyPair) -> None:
    raw = build_error(InputError("no id"), message_id="", key=beta[0], cert=beta[1], now=NOW)
    assert parse_error(raw, peer_cert=beta[1]).message_id == ""


def test_error_signed_by_someone_else(alpha: KeyPair, beta: KeyPair) -> None:
    raw = build_error(NotServiced("no"), message_id="m", key=alpha[0], cert=alpha[1], now=NOW)
    with pytest.raises(SecurityError, match="not the peer's certificate"):
        parse_error(raw, peer_cert=beta[1])


def test_tampered_error_flag(beta: KeyPair) -> None:
    doc = json.loads(
        build_error(StoreError("down"), message_id="m", key=beta[0], cert=beta[1], now=NOW)
    )
    doc["permanent"] = True
    with pytest.raises(SecurityError, match="error signature does not verify"):
        parse_error(json.dumps(doc).encode(), peer_cert=beta[1])
