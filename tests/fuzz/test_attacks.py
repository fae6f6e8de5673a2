"""The attacks found or tried against the readers, kept as regression tests.

Each row is a hostile input built from a valid one and the refusal it must
get: the error class the edge turns into an ebMS error code or an HTTP
status. Inputs the coverage-guided fuzzer (``scripts/fuzz``) found are kept
byte for byte in ``tests/fuzz/regressions/`` and replayed through their
target at the end of this module.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from fuzz import seeds, targets
from gateway.as4 import inbound, mime, sbdh
from gateway.as4.errors import (
    FailedAuthentication,
    InvalidEnvelope,
    MimeInconsistency,
    PolicyNoncompliance,
)
from gateway.errors import GatewayError, HostileXml, NotXml, PayloadTooLarge
from gateway.service.intake import check_document

REGRESSIONS = Path(__file__).parent / "regressions"


def _read(body: bytes) -> inbound.Received:
    return targets.read_signed(seeds.signed_request()[0], body)


def _with_signer_certificate(edit: Callable[[bytearray, int], None]) -> bytes:
    """The valid request with the signer's certificate (in its token) edited.
    ``edit`` gets the DER and the offset of the issuer name inside it."""
    _, body = seeds.signed_request()
    cert = seeds.keys().sender[1]
    der = bytearray(cert.public_bytes(Encoding.DER))
    edit(der, bytes(der).find(cert.issuer.public_bytes()))
    old = base64.b64encode(cert.public_bytes(Encoding.DER))
    assert old in body
    return body.replace(old, base64.b64encode(bytes(der)))


def _issuer_not_utf8(der: bytearray, at: int) -> None:
    # The first character of the issuer's first UTF8String value: cryptography
    # loads the certificate and fails only when the issuer is first read.
    der[at + 13] = 0x80


def _issuer_unknown_string_type(der: bytearray, at: int) -> None:
    # The tag of that string becomes 0: reading the issuer raised KeyError.
    der[at + 11] = 0x00


def _duplicate_id(body: bytes) -> bytes:
    # Signature wrapping: a second element with the signed Body's wsu:Id.
    start = body.find(b"<S12:Body")
    assert start > 0
    id_at = body.find(b'wsu:Id="', start)
    value = body[id_at + 8 : body.find(b'"', id_at + 8)]
    header_end = body.find(b"</S12:Header>")
    forged = b'<x:Wrapped xmlns:x="urn:x" xmlns:wsu="' + _WSU + b'" wsu:Id="' + value + b'"/>'
    return body[:header_end] + forged + body[header_end:]


_WSU = b"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


def _no_signature(body: bytes) -> bytes:
    start = body.find(b"<ds:Signature")
    end = body.find(b"</ds:Signature>") + len(b"</ds:Signature>")
    assert 0 < start < end
    return body[:start] + body[end:]


def _token_not_base64(body: bytes) -> bytes:
    old = base64.b64encode(seeds.keys().sender[1].public_bytes(Encoding.DER))
    return body.replace(old, b"!!not base64!!")


SIGNED_MESSAGE_ATTACKS: list[tuple[str, Callable[[], bytes], type[GatewayError]]] = [
    (
        "signer certificate whose issuer is not UTF-8 (found by the fuzzer)",
        lambda: _with_signer_certificate(_issuer_not_utf8),
        FailedAuthentication,
    ),
    (
        "signer certificate whose issuer has string tag 0 (found by the fuzzer)",
        lambda: _with_signer_certificate(_issuer_unknown_string_type),
        FailedAuthentication,
    ),
    (
        "signature wrapping: a second element with the signed Body's Id",
        lambda: _duplicate_id(seeds.signed_request()[1]),
        FailedAuthentication,
    ),
    (
        "the signature removed",
        lambda: _no_signature(seeds.signed_request()[1]),
        PolicyNoncompliance,
    ),
    (
        "a token that is not base64",
        lambda: _token_not_base64(seeds.signed_request()[1]),
        FailedAuthentication,
    ),
]


@pytest.mark.parametrize(
    ("attack", "build", "refusal"),
    SIGNED_MESSAGE_ATTACKS,
    ids=[a[0] for a in SIGNED_MESSAGE_ATTACKS],
)
def test_a_hostile_signed_message_is_refused_with_its_ebms_error(
    attack: str, build: Callable[[], bytes], refusal: type[GatewayError]
) -> None:
    """Signed AS4 messages with a broken signer certificate, a wrapped signature, no signature or
    a token that is not base64 are refused with the matching ebMS error class."""
    with pytest.raises(refusal):
        _read(build())


MIME_ATTACKS: list[tuple[str, str, bytes]] = [
    ("no boundary", "multipart/related; type=application/soap+xml", b"--x\r\n\r\n<a/>"),
    ("a 300-character boundary", f'multipart/related; boundary="{"b" * 300}"', b"--b"),
    (
        "10,000 empty parts",
        'multipart/related; boundary="b"',
        b"--b\r\n\r\n\r\n" * 10_000 + b"--b--",
    ),
    (
        "a part whose headers never end",
        'multipart/related; boundary="b"',
        b"--b\r\nContent-Type: application/soap+xml" + b"X" * 100_000,
    ),
    ("a media type that is neither SOAP nor multipart", "image/png", b"\x89PNG"),
]


@pytest.mark.parametrize(
    ("attack", "ctype", "body"), MIME_ATTACKS, ids=[a[0] for a in MIME_ATTACKS]
)
def test_a_hostile_multipart_is_refused_as_mime_inconsistency(
    attack: str, ctype: str, body: bytes
) -> None:
    """Multiparts without or with an overlong boundary, 10,000 empty parts, endless part headers,
    or a non-SOAP media type are refused as a MIME inconsistency."""
    with pytest.raises(MimeInconsistency):
        mime.parse(ctype, body)


def _envelope_with(prefix: bytes = b"", document: bytes | None = None) -> bytes:
    return prefix + sbdh.wrap(
        seeds.envelope_header(), seeds.invoice() if document is None else document
    )


SBDH_ATTACKS: list[tuple[str, Callable[[], bytes], type[GatewayError]]] = [
    (
        "an internal DTD declaring an entity",
        lambda: b'<!DOCTYPE x [<!ENTITY e "boom">]>' + _envelope_with(),
        GatewayError,
    ),
    ("no header at all", lambda: b"<StandardBusinessDocument/>", InvalidEnvelope),
    (
        "a header that never closes",
        lambda: _envelope_with()[:400] + b"<x>" * 100_000,
        InvalidEnvelope,
    ),
    (
        "a header and no document",
        lambda: (
            _envelope_with().split(b"</sh:StandardBusinessDocumentHeader>")[0]
            + b"</sh:StandardBusinessDocumentHeader></sh:StandardBusinessDocument>"
        ),
        InvalidEnvelope,
    ),
]


@pytest.mark.parametrize(
    ("attack", "build", "refusal"), SBDH_ATTACKS, ids=[a[0] for a in SBDH_ATTACKS]
)
def test_a_hostile_sbdh_envelope_is_refused(
    attack: str, build: Callable[[], bytes], refusal: type[GatewayError]
) -> None:
    """SBDH envelopes with a DTD entity, no header, a header that never closes, or no document
    are refused with an envelope error."""
    with pytest.raises(refusal):
        sbdh.unwrap(build(), max_bytes=targets.LIMITS.max_document_bytes)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]><Invoice>&lol9;</Invoice>"
)

DOCUMENT_ATTACKS: list[tuple[str, Callable[[], bytes], type[GatewayError]]] = [
    ("billion laughs", lambda: BILLION_LAUGHS, HostileXml),
    (
        "an external entity",
        lambda: b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>',
        HostileXml,
    ),
    ("nesting 10,000 deep", lambda: b"<a>" * 10_000 + b"</a>" * 10_000, HostileXml),
    ("more elements than the limit", lambda: b"<a>" + b"<b/>" * 30_000 + b"</a>", HostileXml),
    ("larger than the limit", lambda: b"<a>" + b" " * 3 * 1024 * 1024 + b"</a>", PayloadTooLarge),
    ("not XML", lambda: b"%PDF-1.7\n", NotXml),
]


@pytest.mark.parametrize(
    ("attack", "build", "refusal"), DOCUMENT_ATTACKS, ids=[a[0] for a in DOCUMENT_ATTACKS]
)
def test_a_hostile_document_is_refused_before_validation(
    attack: str, build: Callable[[], bytes], refusal: type[GatewayError]
) -> None:
    """Billion laughs, external entities, deep nesting, too many elements, oversize and non-XML
    documents are refused as hostile, too large or not XML before validation."""
    with pytest.raises(refusal):
        check_document(build(), targets.LIMITS)


def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.name)
def test_inputs_the_fuzzer_found_no_longer_break_their_reader(path: Path) -> None:
    """Each input the coverage-guided fuzzer found (tests/fuzz/regressions/<target>-*) is now
    either read correctly or refused with a GatewayError by its target; nothing else escapes."""
    target = targets.TARGETS[path.name.split("-", 1)[0]]
    target(path.read_bytes())
