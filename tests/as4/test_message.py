"""A whole request through our builder and reader: the round trip, the
retry ids, and the tamper table with the ebMS error each case must give."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace

import pytest
from lxml import etree

from gateway.as4 import ns, outbound, payload, sbdh
from gateway.as4.errors import error_info
from gateway.as4.ns import DS, EB, WSSE, XENC, q
from gateway.as4.outbound import Request
from gateway.errors import GatewayError
from tests.as4.helpers import (
    ALPHA,
    BETA,
    BUYER,
    SELLER,
    Pki,
    envelope,
    invoice,
    read,
    request,
    user_message,
)


def test_round_trip(pki: Pki) -> None:
    """A built request reads back as the same document, ebMS parties, original sender and final
    recipient, SBDH instance id and signer, with the three signed references."""
    req = request(pki)
    got = read(pki, req.content_type, req.body())
    assert got.document == invoice()[invoice().index(b"<!--") :]
    um = got.user_message
    assert (um.message_id, um.from_party, um.to_party) == ("doc-1@" + ALPHA, ALPHA, BETA)
    assert (um.original_sender, um.final_recipient) == (str(SELLER), str(BUYER))
    assert got.envelope.instance_id == req.instance_id
    assert got.signer == pki.alpha[1]
    assert [r.get("URI") for r in got.references] == [
        "#id-messaging",
        "#id-body",
        req.references[2].uri,
    ]


def test_ids_are_stable_across_retries_and_valid_ncnames(pki: Pki) -> None:
    """A retry keeps the MessageId and instance id but encrypts afresh; all element Ids are
    unique NCNames; a message id without @ gets one, the same each time."""
    first, retry = request(pki), request(pki)
    assert (first.message_id, first.instance_id) == (retry.message_id, retry.instance_id)
    assert first.body() != retry.body()  # fresh key and IV each time
    root = etree.fromstring(bytes(first.chunks[1]))
    ids = [v for el in root.iter() for k, v in el.attrib.items() if k in (ns.WSU_ID, "Id")]
    assert len(ids) == len(set(ids)) >= 6
    assert all(ns.is_ncname(i) for i in ids)
    assert outbound.ebms_message_id("no at sign") == outbound.ebms_message_id("no at sign")
    assert "@" in outbound.ebms_message_id("no at sign")


def test_profile_values_on_the_wire(pki: Pki) -> None:
    """A request carries the Peppol party id type, service type, action, agreement and gzip
    compression, and an empty SOAP Body."""
    root = etree.fromstring(bytes(request(pki).chunks[1]))
    um = root.find(f".//{q(EB, 'UserMessage')}")
    assert um is not None
    party = um.find(f"{q(EB, 'PartyInfo')}/{q(EB, 'From')}/{q(EB, 'PartyId')}")
    assert party is not None and party.get("type") == "urn:fdc:peppol.eu:2017:identifiers:ap"
    service = um.find(f".//{q(EB, 'Service')}")
    assert service is not None and service.get("type") == "cenbii-procid-ubl"
    assert um.findtext(f".//{q(EB, 'Action')}", "").startswith("busdox-docid-qns::urn:oasis")
    assert um.findtext(f".//{q(EB, 'AgreementRef')}") == (
        "urn:fdc:peppol.eu:2017:agreements:tia:ap_provider"
    )
    props = {p.get("name"): p.text for p in um.iterfind(f".//{q(EB, 'Property')}")}
    assert props["CompressionType"] == "application/gzip"
    body = root.find(q(ns.S12, "Body"))
    assert body is not None and len(body) == 0 and not (body.text or "").strip()


def test_base64_attachment_from_a_tolerant_peer_still_verifies(pki: Pki) -> None:
    """A request whose attachment a peer re-encoded as base64 still verifies and reads."""
    req = request(pki)
    head = bytes(req.chunks[2]).replace(b"binary", b"base64")
    b64 = base64.encodebytes(bytes(req.chunks[3]))
    body = b"".join((bytes(req.chunks[0]), bytes(req.chunks[1]), head, b64, bytes(req.chunks[4])))
    assert read(pki, req.content_type, body).envelope.instance_id == req.instance_id


# --- the tamper table ------------------------------------------------------


def _soap(req: Request, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(bytes(req.chunks[1]))
    change(root)
    chunks = list(req.chunks)
    chunks[1] = etree.tostring(root)
    return b"".join(bytes(c) for c in chunks)


def _find(root: etree._Element, path: str) -> etree._Element:
    el = root.find(path, {"ds": DS, "eb": EB, "wsse": WSSE, "xenc": XENC})
    assert el is not None, path
    return el


def _set(path: str, attr: str | None, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        el = _find(root, path)
        if attr is None:
            el.text = value
        else:
            el.set(attr, value)

    return change


def _flip_signature(root: etree._Element) -> None:
    el = _find(root, ".//ds:SignatureValue")
    raw = bytearray(base64.b64decode(el.text or ""))
    raw[10] ^= 1
    el.text = base64.b64encode(bytes(raw)).decode()


def _drop(path: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        el = _find(root, path)
        parent = el.getparent()
        assert parent is not None
        parent.remove(el)

    return change


def _duplicate_messaging(root: etree._Element) -> None:
    _find(root, ".//wsse:Security").append(
        etree.fromstring(etree.tostring(_find(root, ".//eb:Messaging")))
    )


def _wrap_messaging(root: etree._Element) -> None:
    """The signed Messaging hidden in the Security header, a forged one in its place."""
    original = _find(root, ".//eb:Messaging")
    forged = etree.fromstring(etree.tostring(original))
    forged.set(ns.WSU_ID, "id-forged")
    _find(forged, ".//eb:ConversationId").text = "forged"
    header = original.getparent()
    assert header is not None
    _find(root, ".//wsse:Security").append(original)
    header.append(forged)


def _flip_ciphertext(req: Request) -> bytes:
    data = bytearray(req.chunks[3])
    data[100] ^= 0x40
    return b"".join((*map(bytes, req.chunks[:3]), bytes(data), bytes(req.chunks[4])))


SOAP_TAMPERS: dict[str, tuple[Callable[[etree._Element], None], str]] = {
    "signature value": (_flip_signature, "EBMS:0101"),
    "signed header value": (_set(".//eb:ConversationId", None, "other"), "EBMS:0101"),
    "originalSender": (_set(".//eb:Property[@name='originalSender']", None, "0088:9"), "EBMS:0101"),
    "attachment reference digest": (
        _set(".//ds:Reference[3]/ds:DigestValue", None, base64.b64encode(b"x" * 32).decode()),
        "EBMS:0101",
    ),
    "signature method sha1": (
        _set(".//ds:SignatureMethod", "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
        "EBMS:0103",
    ),
    "digest method sha1": (
        _set(
            ".//ds:Reference[1]/ds:DigestMethod",
            "Algorithm",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        ),
        "EBMS:0103",
    ),
    "oaep digest sha1": (
        _set(
            ".//xenc:EncryptedKey/xenc:EncryptionMethod/ds:DigestMethod",
            "Algorithm",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        ),
        "EBMS:0103",
    ),
    "content encryption aes-cbc": (
        _set(
            ".//xenc:EncryptedData/xenc:EncryptionMethod",
            "Algorithm",
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
        ),
        "EBMS:0103",
    ),
    "unsigned": (_drop(".//ds:Signature"), "EBMS:0103"),
    "not encrypted": (_drop(".//xenc:EncryptedKey"), "EBMS:0103"),
    "encrypted key value": (
        _set(".//xenc:CipherValue", None, base64.b64encode(b"k" * 256).decode()),
        "EBMS:0102",
    ),
    "duplicate Id": (_duplicate_messaging, "EBMS:0101"),
    "signature wrapping": (_wrap_messaging, "EBMS:0101"),
    "addressed to another AP": (_set(".//eb:To/eb:PartyId", None, "POP999999"), "EBMS:0010"),
    "party id type": (
        _set(
            ".//eb:From/eb:PartyId", "type", "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
        ),
        "EBMS:0010",
    ),
    "agreement": (_set(".//eb:AgreementRef", None, "urn:other"), "EBMS:0010"),
    "service type": (_set(".//eb:Service", "type", "other"), "EBMS:0010"),
    "no message id": (_set(".//eb:MessageId", None, ""), "EBMS:0009"),
}


def _code(exc: GatewayError) -> str:
    return error_info(exc).code


@pytest.mark.parametrize("name", list(SOAP_TAMPERS))
def test_tampered_envelope(pki: Pki, name: str) -> None:
    """Each change to a signed request's SOAP header (signature, signed values, weak algorithms,
    no signature or encryption, wrapping, wrong party, agreement or service, no message id) is
    refused with its ebMS error code."""
    change, code = SOAP_TAMPERS[name]
    req = request(pki)
    with pytest.raises(GatewayError) as caught:
        read(pki, req.content_type, _soap(req, change))
    assert _code(caught.value) == code, caught.value.message


def _assembled(
    pki: Pki, content: bytes, *, digest_of: bytes | None = None, compress: bool = True
) -> Request:
    sealed = payload.seal([content], key=b"k" * 16, iv=b"i" * 12, compress=compress)
    if digest_of is not None:
        other = payload.seal([digest_of], key=b"k" * 16, iv=b"i" * 12, compress=compress)
        sealed = replace(sealed, digest=other.digest)
    return outbound.assemble(
        sealed,
        b"k" * 16,
        user_message=user_message(),
        instance_id="i",
        key=pki.alpha[0],
        cert=pki.alpha[1],
        recipient=pki.beta[1],
    )


CASES: dict[str, tuple[Callable[[Pki], tuple[str, bytes]], str, str]] = {
    "ciphertext": (
        lambda p: ((r := request(p)).content_type, _flip_ciphertext(r)),
        "EBMS:0102",
        "decrypted",
    ),
    "untrusted CA": (
        lambda p: ((r := request(p, signer=p.rogue_alpha)).content_type, r.body()),
        "EBMS:0101",
        "trusted CA",
    ),
    "expired certificate": (
        lambda p: ((r := request(p, signer=p.expired_alpha)).content_type, r.body()),
        "EBMS:0101",
        "expired",
    ),
    "certificate of another AP": (
        lambda p: ((r := request(p, signer=p.beta)).content_type, r.body()),
        "EBMS:0101",
        "expected",
    ),
    "encrypted for another AP": (
        lambda p: ((r := request(p, recipient=p.alpha[1])).content_type, r.body()),
        "EBMS:0102",
        "another certificate",
    ),
    "attachment digest": (
        lambda p: (
            (r := _assembled(p, sbdh.wrap(envelope(), invoice()), digest_of=b"x")).content_type,
            r.body(),
        ),
        "EBMS:0101",
        "digest",
    ),
    "not gzip": (
        lambda p: ((r := _assembled(p, b"plain bytes", compress=False)).content_type, r.body()),
        "EBMS:0303",
        "gzip",
    ),
    "not an envelope": (
        lambda p: ((r := _assembled(p, b"<Invoice/>")).content_type, r.body()),
        "EBMS:0004",
        "SBDH",
    ),
    "SBDH disagrees": (
        lambda p: (
            (r := _assembled(p, sbdh.wrap(envelope(receiver="0088:1"), invoice()))).content_type,
            r.body(),
        ),
        "EBMS:0004",
        "finalRecipient",
    ),
    "not MIME": (lambda p: ("text/plain", b"hello"), "EBMS:0007", "neither"),
    "SOAP part not XML": (
        lambda p: ("application/soap+xml", b"<S12:Envelope"),
        "EBMS:0009",
        "well-formed",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_requests(pki: Pki, name: str) -> None:
    """Requests with a broken ciphertext, untrusted, expired or wrong-AP certificate, wrong
    encryption key, bad digest, no gzip, no SBDH, a disagreeing SBDH, no MIME or bad SOAP are
    refused with their ebMS code and a reason."""
    make, code, words = CASES[name]
    ctype, body = make(pki)
    with pytest.raises(GatewayError) as caught:
        read(pki, ctype, body)
    assert _code(caught.value) == code
    assert words in caught.value.message


def test_wrong_private_key_looks_like_any_decryption_failure(pki: Pki) -> None:
    """A request we cannot decrypt with our key gets EBMS:0102 with the same message as any
    decryption failure."""
    req = request(pki)
    with pytest.raises(GatewayError) as caught:
        read(pki, req.content_type, req.body(), key=pki.alpha[0])
    assert _code(caught.value) == "EBMS:0102"
    assert caught.value.message == "the attachment could not be decrypted"


def test_compression_bomb_is_stopped(pki: Pki) -> None:
    """An attachment that decompresses past the document size limit is refused with EBMS:0303."""
    bomb = sbdh.wrap(envelope(), b"<Invoice>" + b" " * 5_000_000 + b"</Invoice>")
    req = _assembled(pki, bomb)
    with pytest.raises(GatewayError) as caught:
        read(pki, req.content_type, req.body(), max_document_bytes=100_000)
    assert _code(caught.value) == "EBMS:0303"
