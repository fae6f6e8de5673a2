"""Interoperability with the independent ``as4`` package (PyPI, Apache-2.0),
both directions, with the failure cases on each side.

``as4`` is a test dependency only. Its receiver has no duplicate
elimination of its own (its README says so), so a replay to it is answered
with a second receipt that our sender must still accept as proof.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from as4 import AS4LocalPrivateKey, AS4SendingExchange, ExchangeState
from as4.peppol import (
    PeppolAS4Profile,
    create_peppol_external_party,
    create_peppol_internal_party,
    parse_peppol_message,
    peppol_security_policy,
)
from as4.profiles.peppol.document_identifier import BusdoxDocidQnsDocumentIdentifier
from as4.profiles.peppol.message import PeppolAS4MessageBuilderArgs
from lxml import etree

from gateway.as4 import inbound, receipt
from gateway.errors import GatewayError
from gateway.pki import certificates as certs
from tests.as4.helpers import (
    ALPHA,
    BETA,
    BUYER,
    DOCTYPE,
    NOW,
    PROCESS,
    SELLER,
    Pki,
    invoice,
    read,
    request,
)

DS = "{http://www.w3.org/2000/09/xmldsig#}"


# --- their sender, our receiver ---------------------------------------------


def _their_exchange(
    pki: Pki, signer: certs.KeyPair | None = None
) -> tuple[AS4SendingExchange, dict[str, str], bytes]:
    key, cert = signer or pki.alpha
    local = create_peppol_internal_party(
        party_id=ALPHA, certificate=cert, private_key=AS4LocalPrivateKey(key)
    )
    remote = create_peppol_external_party(party_id=BETA, certificate=pki.beta[1])
    exchange = AS4SendingExchange(profile=PeppolAS4Profile, local_party=local, remote_party=remote)
    args = PeppolAS4MessageBuilderArgs(
        sender=str(SELLER),
        recipient=str(BUYER),
        document_type_identifier=BusdoxDocidQnsDocumentIdentifier.from_identifier_value(DOCTYPE),
        document_identification_instance_identifier="3c5b7e0e-2f0a-4f7e-9d7c-1a2b3c4d5e6f",
        process_identifier=PROCESS,
        c1_country_id="DK",
    )
    headers, body = exchange.build(invoice(), args)
    exchange.mark_sent()
    return exchange, headers, body


def _our_answer(pki: Pki, headers: dict[str, str], body: bytes) -> bytes:
    """What our endpoint answers (the adapter's logic, without HTTP)."""
    try:
        got = read(pki, headers["Content-Type"], body)
    except GatewayError as exc:
        return receipt.build_refusal(
            exc,
            ref_to_message_id=inbound.peek_message_id(headers["Content-Type"], body),
            signal_id="error-1@beta",
            now=NOW,
            key=pki.beta[0],
            cert=pki.beta[1],
        )
    return receipt.build_receipt(
        ref_to_message_id=got.user_message.message_id,
        references=got.references,
        receipt_id="receipt-1@beta",
        now=NOW,
        key=pki.beta[0],
        cert=pki.beta[1],
    )


def test_their_sender_our_receiver_their_strict_receipt_check(pki: Pki) -> None:
    """A message from the as4 package's sender is read by our receiver, and our receipt passes
    that package's strict check."""
    exchange, headers, body = _their_exchange(pki)
    got = read(pki, headers["Content-Type"], body)
    assert got.document.endswith(b"</Invoice>")
    assert got.envelope.instance_id == "3c5b7e0e-2f0a-4f7e-9d7c-1a2b3c4d5e6f"
    exchange.receive_signal(_our_answer(pki, headers, body))
    assert exchange.state is ExchangeState.ACKNOWLEDGED and exchange.successful


def _tamper_their_ciphertext(headers: dict[str, str], body: bytes) -> bytes:
    at = body.rindex(b"Content-ID:")
    start = body.index(b"\r\n\r\n", at) + 4 + 50
    return body[:start] + bytes([body[start] ^ 1]) + body[start + 1 :]


def _tamper_their_signature(headers: dict[str, str], body: bytes) -> bytes:
    start = body.index(b"SignatureValue>") + len(b"SignatureValue>")
    end = body.index(b"<", start)
    raw = bytearray(base64.b64decode(body[start:end]))
    raw[0] ^= 1
    return body[:start] + base64.b64encode(bytes(raw)) + body[end:]


@pytest.mark.parametrize(
    ("name", "tamper", "code"),
    [
        ("ciphertext", _tamper_their_ciphertext, "EBMS:0102"),
        ("signature", _tamper_their_signature, "EBMS:0101"),
    ],
)
def test_their_tampered_messages_get_our_signed_errors(
    pki: Pki, name: str, tamper: Callable[[dict[str, str], bytes], bytes], code: str
) -> None:
    """Their message with a flipped ciphertext byte or signature gets our signed EBMS:0102 or
    EBMS:0101, which their sender reads as a rejection."""
    exchange, headers, body = _their_exchange(pki)
    exchange.receive_signal(_our_answer(pki, headers, tamper(headers, body)))
    assert exchange.state is ExchangeState.REJECTED
    assert exchange.error is not None and exchange.error.error_code == code


def test_their_message_signed_with_an_untrusted_certificate(pki: Pki) -> None:
    """Their message signed with a certificate from an untrusted CA is rejected by us with
    EBMS:0101."""
    exchange, headers, body = _their_exchange(pki, signer=pki.rogue_alpha)
    exchange.receive_signal(_our_answer(pki, headers, body))
    assert exchange.state is ExchangeState.REJECTED
    assert exchange.error is not None and exchange.error.error_code == "EBMS:0101"


def test_their_replay_gets_the_original_receipt_again(pki: Pki) -> None:
    """Our stored receipt sent again for their replayed message is accepted by their strict
    check."""
    exchange, headers, body = _their_exchange(pki)
    first = _our_answer(pki, headers, body)
    exchange.receive_signal(first)
    # The endpoint answers a duplicate with the stored receipt (see test_http);
    # the sender's strict check accepts those very bytes a second time.
    exchange.mark_sent().receive_signal(first)
    assert exchange.state is ExchangeState.ACKNOWLEDGED


# --- our sender, their receiver ---------------------------------------------


def _them(pki: Pki) -> Callable[[dict[str, str], bytes], tuple[bool, bytes]]:
    local = create_peppol_internal_party(
        party_id=BETA, certificate=pki.beta[1], private_key=AS4LocalPrivateKey(pki.beta[0])
    )

    def receive(headers: dict[str, str], body: bytes) -> tuple[bool, bytes]:
        exchange = parse_peppol_message(
            headers, body, local_party=local, security_policy=peppol_security_policy(pki.ca[1])
        )
        return exchange.successful, exchange.build_signal()[1]

    return receive


def test_our_sender_their_receiver_our_receipt_check(pki: Pki) -> None:
    """Our message is accepted by the as4 package's receiver, and its receipt passes our strict
    check."""
    req = request(pki)
    ok, answer = _them(pki)(req.headers, req.body())
    assert ok
    signal = receipt.read_signal("application/soap+xml", answer, signer=pki.beta[1])
    receipt.check_receipt(signal, message_id=req.message_id, references=req.references)


def _flip_our_ciphertext(body: bytes) -> bytes:
    at = body.rindex(b"Content-ID:")
    start = body.index(b"\r\n\r\n", at) + 4 + 50
    return body[:start] + bytes([body[start] ^ 1]) + body[start + 1 :]


def _flip_our_signature(body: bytes) -> bytes:
    return _tamper_their_signature({}, body)


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("ciphertext", lambda p: (request(p), _flip_our_ciphertext), "EBMS:0102"),
        ("signature", lambda p: (request(p), _flip_our_signature), "EBMS:0101"),
        (
            "untrusted certificate",
            lambda p: (request(p, signer=p.rogue_alpha), lambda b: b),
            "EBMS:0101",
        ),
        (
            "encrypted to the wrong certificate",
            lambda p: (request(p, recipient=p.alpha[1]), lambda b: b),
            "EBMS:0102",
        ),
    ],
)
def test_their_signed_errors_reach_our_sender(
    pki: Pki, name: str, make: Callable[[Pki], tuple[object, Callable[[bytes], bytes]]], code: str
) -> None:
    """Our message with flipped ciphertext or signature, an untrusted signer, or encrypted to the
    wrong certificate gets their signed EBMS:0102 or 0101, which our check refuses as no receipt."""
    req, tamper = make(pki)
    ok, answer = _them(pki)(req.headers, tamper(req.body()))  # type: ignore[attr-defined]
    assert not ok
    signal = receipt.read_signal("application/soap+xml", answer, signer=pki.beta[1])
    assert signal.ref_to_message_id == req.message_id  # type: ignore[attr-defined]
    (error,) = signal.errors
    assert error.code == code and error.permanent
    with pytest.raises(GatewayError, match="not a receipt"):
        receipt.check_receipt(signal, message_id=req.message_id, references=req.references)  # type: ignore[attr-defined]


def test_our_replay_to_them_is_acknowledged_again(pki: Pki) -> None:
    """Our message sent twice to their receiver is acknowledged twice, each receipt passing our
    check."""
    req = request(pki)
    receive = _them(pki)
    for _ in range(2):
        ok, answer = receive(req.headers, req.body())
        assert ok
        signal = receipt.read_signal("application/soap+xml", answer, signer=pki.beta[1])
        receipt.check_receipt(signal, message_id=req.message_id, references=req.references)


def test_their_receipt_echoes_exactly_our_references(pki: Pki) -> None:
    """Their receipt acknowledges exactly the references we signed, in order."""
    req = request(pki)
    _, answer = _them(pki)(req.headers, req.body())
    uris = [
        el.get("URI")
        for el in etree.fromstring(answer).iter(DS + "Reference")
        if el.getparent().tag.endswith("MessagePartNRInformation")
    ]  # type: ignore[union-attr]
    assert uris == [r.uri for r in req.references]
