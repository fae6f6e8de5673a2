"""WS-Security for AS4: the X.509 token, the XML signature over eb:Messaging,
the SOAP Body and each attachment, and the encrypted attachment key.

CEF eDelivery AS4 1.14 §2.2.6 (Peppol AS4 2.0.3 §4): RSA-SHA256 over an
exclusively canonicalised SignedInfo, SHA-256 digests, attachments signed
with the SwA Attachment-Content-Signature-Transform, the signer's
certificate in a BinarySecurityToken referenced directly; attachments
encrypted with AES-128-GCM under a key transported with RSA-OAEP (XML
Encryption 1.1, MGF1 with SHA-256, SHA-256 digest).

Verification is strict: one signature, only these algorithms, every
reference resolved to exactly one element, and the coverage checked on the
very elements the message is read from (no signature wrapping).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from gateway.as4 import ns
from gateway.as4.errors import FailedAuthentication, FailedDecryption, PolicyNoncompliance
from gateway.as4.ns import DS, WSSE, WSSE11, WSU, XENC, XENC11, q, sub
from gateway.pki import certificates as certs

# Our wsu:Id values: fixed, unique within one envelope, and valid NCNames.
ID_SIGNER = "id-signer-token"
ID_RECIPIENT = "id-recipient-token"
ID_SIGNATURE = "id-signature"
ID_KEY = "id-encrypted-key"
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_ID_ATTRS = (q(WSU, "Id"), "Id", "ID", "id")


@dataclass(frozen=True, slots=True)
class Reference:
    """One ds:Reference: what a signature covers, and what a receipt echoes."""

    uri: str
    digest: bytes
    digest_method: str = ns.SHA256
    transforms: tuple[str, ...] = (ns.C14N_EXC,)
    prefixes: tuple[str, ...] = ()  # exc-c14n InclusiveNamespaces PrefixList


# --- signing ---------------------------------------------------------------


def token(parent: etree._Element, cert: x509.Certificate, token_id: str) -> etree._Element:
    bst = sub(
        parent, WSSE, "BinarySecurityToken", _b64(cert.public_bytes(serialization.Encoding.DER))
    )
    bst.set("EncodingType", ns.BASE64_BINARY)
    bst.set("ValueType", ns.X509V3)
    bst.set(ns.WSU_ID, token_id)
    return bst


def sign(
    security: etree._Element,
    *,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    elements: Sequence[etree._Element],
    attachments: Sequence[tuple[str, bytes]] = (),
) -> list[Reference]:
    """Add our token and a signature over ``elements`` (each with a wsu:Id)
    and attachments given as (content id, SHA-256 of the signed content)."""
    token(security, cert, ID_SIGNER)
    refs = [
        Reference("#" + el.get(ns.WSU_ID, ""), hashlib.sha256(ns.exc_c14n(el)).digest())
        for el in elements
    ]
    refs += [
        Reference("cid:" + cid, digest, transforms=(ns.SWA_CONTENT_SIGNATURE,))
        for cid, digest in attachments
    ]
    signature = sub(security, DS, "Signature")
    signature.set("Id", ID_SIGNATURE)
    info = sub(signature, DS, "SignedInfo")
    sub(info, DS, "CanonicalizationMethod").set("Algorithm", ns.C14N_EXC)
    sub(info, DS, "SignatureMethod").set("Algorithm", ns.RSA_SHA256)
    for ref in refs:
        info.append(reference_element(ref))
    value = key.sign(ns.exc_c14n(info), padding.PKCS1v15(), hashes.SHA256())
    sub(signature, DS, "SignatureValue", _b64(value))
    key_info = sub(signature, DS, "KeyInfo")
    _token_reference(key_info, "#" + ID_SIGNER).set("ValueType", ns.X509V3)
    return refs


def reference_element(ref: Reference) -> etree._Element:
    el = etree.Element(q(DS, "Reference"), nsmap={"ds": DS})
    el.set("URI", ref.uri)
    transforms = sub(el, DS, "Transforms")
    for algorithm in ref.transforms:
        sub(transforms, DS, "Transform").set("Algorithm", algorithm)
    sub(el, DS, "DigestMethod").set("Algorithm", ref.digest_method)
    sub(el, DS, "DigestValue", _b64(ref.digest))
    return el


def _token_reference(parent: etree._Element, uri: str) -> etree._Element:
    ref = sub(sub(parent, WSSE, "SecurityTokenReference"), WSSE, "Reference")
    ref.set("URI", uri)
    return ref


# --- encrypting ------------------------------------------------------------


def encrypt_key(
    security: etree._Element,
    *,
    recipient: x509.Certificate,
    session_key: bytes,
    parts: Sequence[tuple[str, str]],
) -> None:
    """Add the recipient's token, the RSA-OAEP encrypted ``session_key`` and
    one EncryptedData per attachment (content id, media type of its plain
    content), whose cipher text travels as the MIME part itself."""
    public = recipient.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the recipient certificate has no RSA key")
    token(security, recipient, ID_RECIPIENT)
    ek = sub(security, XENC, "EncryptedKey")
    ek.set("Id", ID_KEY)
    method = sub(ek, XENC, "EncryptionMethod")
    method.set("Algorithm", ns.RSA_OAEP)
    sub(method, DS, "DigestMethod").set("Algorithm", ns.SHA256)
    sub(method, XENC11, "MGF").set("Algorithm", ns.MGF1_SHA256)
    _token_reference(sub(ek, DS, "KeyInfo"), "#" + ID_RECIPIENT).set("ValueType", ns.X509V3)
    sub(sub(ek, XENC, "CipherData"), XENC, "CipherValue", _b64(public.encrypt(session_key, OAEP)))
    refs = sub(ek, XENC, "ReferenceList")
    for i, (cid, media_type) in enumerate(parts, 1):
        data_id = f"id-encrypted-data-{i}"
        sub(refs, XENC, "DataReference").set("URI", "#" + data_id)
        ed = sub(security, XENC, "EncryptedData")
        ed.set("Id", data_id)
        ed.set("MimeType", media_type)
        ed.set("Type", ns.SWA_CONTENT_ONLY)
        sub(ed, XENC, "EncryptionMethod").set("Algorithm", ns.AES128_GCM)
        str_el = sub(sub(ed, DS, "KeyInfo"), WSSE, "SecurityTokenReference")
        str_el.set(q(WSSE11, "TokenType"), ns.ENCRYPTED_KEY_TOKEN)
        sub(str_el, WSSE, "Reference").set("URI", "#" + ID_KEY)
        cipher_ref = sub(sub(ed, XENC, "CipherData"), XENC, "CipherReference")
        cipher_ref.set("URI", "cid:" + cid)
        sub(sub(cipher_ref, XENC, "Transforms"), DS, "Transform").set(
            "Algorithm", ns.SWA_CIPHERTEXT
        )


# --- reading ---------------------------------------------------------------


def index_ids(root: etree._Element) -> dict[str, etree._Element]:
    """Every element by its Id. Two elements with one Id is how signature
    wrapping hides the unsigned copy, so that is refused outright."""
    found: dict[str, etree._Element] = {}
    for el in root.iter(etree.Element):
        for attr in _ID_ATTRS:
            value = el.get(attr)
            if value is None:
                continue
            if value in found and found[value] is not el:
                raise FailedAuthentication(f"two elements have the Id {value!r}")
            found[value] = el
    return found


@dataclass(frozen=True, slots=True)
class Signature:
    signed_info: etree._Element
    prefixes: tuple[str, ...]
    value: bytes
    references: tuple[Reference, ...]
    reference_elements: tuple[etree._Element, ...]
    certificate: x509.Certificate  # from the referenced token: not yet trusted


def read_signature(security: etree._Element, ids: dict[str, etree._Element]) -> Signature:
    sigs = ns.children(security, DS, "Signature")
    if not sigs:
        raise PolicyNoncompliance("the message is not signed (no ds:Signature)")
    if len(sigs) > 1:
        raise FailedAuthentication("the message has more than one ds:Signature")
    info = _one(sigs[0], DS, "SignedInfo", FailedAuthentication)
    c14n = _one(info, DS, "CanonicalizationMethod", FailedAuthentication)
    _require(c14n.get("Algorithm"), ns.C14N_EXC, "canonicalization")
    _require(
        _one(info, DS, "SignatureMethod", FailedAuthentication).get("Algorithm"),
        ns.RSA_SHA256,
        "signature method",
    )
    elements = tuple(ns.children(info, DS, "Reference"))
    if not elements:
        raise FailedAuthentication("the signature has no references")
    return Signature(
        signed_info=info,
        prefixes=_prefix_list(c14n),
        value=_b64decode(
            ns.text(_one(sigs[0], DS, "SignatureValue", FailedAuthentication)), FailedAuthentication
        ),
        references=tuple(read_reference(el) for el in elements),
        reference_elements=elements,
        certificate=_signer_token(sigs[0], ids),
    )


def read_reference(el: etree._Element) -> Reference:
    transforms = [t for t in el.iterfind(f"{q(DS, 'Transforms')}/{q(DS, 'Transform')}")]
    method = _one(el, DS, "DigestMethod", FailedAuthentication).get("Algorithm", "")
    _require(method, ns.SHA256, "digest method")
    prefixes: tuple[str, ...] = ()
    for t in transforms:
        prefixes += _prefix_list(t)
    return Reference(
        uri=el.get("URI", ""),
        digest=_b64decode(
            ns.text(_one(el, DS, "DigestValue", FailedAuthentication)), FailedAuthentication
        ),
        digest_method=method,
        transforms=tuple(t.get("Algorithm", "") for t in transforms),
        prefixes=prefixes,
    )


def verify(sig: Signature, cert: x509.Certificate) -> None:
    """The SignatureValue over SignedInfo, with ``cert`` (already trusted)."""
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise PolicyNoncompliance("only RSA signing certificates are supported")
    data = ns.exc_c14n(sig.signed_info, sig.prefixes)
    try:
        public.verify(sig.value, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise FailedAuthentication("the signature does not verify") from None


def check_element_references(
    sig: Signature, ids: dict[str, etree._Element], required: dict[str, etree._Element]
) -> None:
    """Every same-document reference digests right, and each of ``required``
    (name -> the element the message is read from) is one of them."""
    covered: set[int] = set()
    for ref in sig.references:
        if ref.uri.startswith("cid:"):
            continue
        if not ref.uri.startswith("#") or ref.transforms != (ns.C14N_EXC,):
            raise PolicyNoncompliance(f"unsupported reference {ref.uri!r} or transforms")
        target = ids.get(ref.uri[1:])
        if target is None:
            raise FailedAuthentication(f"the signature references {ref.uri!r}, which is not there")
        check_digest(ref, ns.exc_c14n(target, ref.prefixes))
        covered.add(id(target))
    for name, el in required.items():
        if id(el) not in covered:
            raise FailedAuthentication(f"the signature does not cover {name}")


def attachment_reference(sig: Signature, cid: str) -> Reference:
    """The signature's reference to attachment ``cid``: every payload is signed."""
    for ref in sig.references:
        if ref.uri.startswith("cid:") and _cid(ref.uri) == cid:
            if ref.transforms != (ns.SWA_CONTENT_SIGNATURE,):
                raise PolicyNoncompliance(f"attachment {ref.uri} is signed with other transforms")
            return ref
    raise FailedAuthentication(f"the signature does not cover attachment cid:{cid}")


def check_digest(ref: Reference, content: bytes) -> None:
    if not hmac.compare_digest(hashlib.sha256(content).digest(), ref.digest):
        raise FailedAuthentication(f"the digest of {ref.uri} does not match")


def open_session_key(
    security: etree._Element,
    ids: dict[str, etree._Element],
    *,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    random: Callable[[int], bytes] = os.urandom,
) -> tuple[bytes, dict[str, str]]:
    """The AES key and the content ids of the attachments it encrypts
    (content id -> media type of the plain content). Raises FailedDecryption,
    or PolicyNoncompliance for algorithms other than the profile's."""
    eks = ns.children(security, XENC, "EncryptedKey")
    if len(eks) != 1:
        raise PolicyNoncompliance("the message must carry exactly one xenc:EncryptedKey")
    ek = eks[0]
    method = _one(ek, XENC, "EncryptionMethod", FailedDecryption)
    _require(method.get("Algorithm"), ns.RSA_OAEP, "key transport")
    digest = method.find(q(DS, "DigestMethod"))
    mgf = method.find(q(XENC11, "MGF"))
    # XML Encryption 1.1 §5.5.2: absent means SHA-1; the profile requires SHA-256.
    _require(None if digest is None else digest.get("Algorithm"), ns.SHA256, "OAEP digest")
    _require(None if mgf is None else mgf.get("Algorithm"), ns.MGF1_SHA256, "OAEP mask generation")
    _check_recipient(ek, ids, cert)
    wrapped = _b64decode(
        ns.text(ek.find(f"{q(XENC, 'CipherData')}/{q(XENC, 'CipherValue')}")), FailedDecryption
    )
    try:
        session_key = key.decrypt(wrapped, OAEP)
    except ValueError:
        # Go on with a random key: the failure then shows as the GCM tag
        # mismatch, with the same message and timing (no padding oracle).
        session_key = random(16)
    if len(session_key) != 16:
        session_key = random(16)
    return session_key, _encrypted_parts(security, ek, ids)


def _encrypted_parts(
    security: etree._Element, ek: etree._Element, ids: dict[str, etree._Element]
) -> dict[str, str]:
    parts: dict[str, str] = {}
    for ref in ek.iterfind(f"{q(XENC, 'ReferenceList')}/{q(XENC, 'DataReference')}"):
        ed = ids.get(ref.get("URI", "").removeprefix("#"))
        if ed is None or ed.tag != q(XENC, "EncryptedData") or ed.getparent() is not security:
            raise FailedDecryption("a DataReference names no EncryptedData of the security header")
        _require(
            _one(ed, XENC, "EncryptionMethod", FailedDecryption).get("Algorithm"),
            ns.AES128_GCM,
            "content encryption",
        )
        cipher_ref = ed.find(f"{q(XENC, 'CipherData')}/{q(XENC, 'CipherReference')}")
        uri = "" if cipher_ref is None else cipher_ref.get("URI", "")
        if not uri.lower().startswith("cid:"):
            raise FailedDecryption("EncryptedData does not reference an attachment (cid:)")
        parts[_cid(uri)] = ed.get("MimeType", "application/octet-stream")
    if not parts:
        raise FailedDecryption("the EncryptedKey encrypts nothing")
    return parts


def _check_recipient(
    ek: etree._Element, ids: dict[str, etree._Element], cert: x509.Certificate
) -> None:
    """When the key names its recipient's certificate, it must be ours: a
    message encrypted for another key cannot be opened, and saying so helps."""
    ref = ek.find(f"{q(DS, 'KeyInfo')}/{q(WSSE, 'SecurityTokenReference')}/{q(WSSE, 'Reference')}")
    if ref is None:
        return  # issuer/serial, key identifier...: the decryption itself decides
    bst = ids.get(ref.get("URI", "").removeprefix("#"))
    if bst is None or bst.tag != q(WSSE, "BinarySecurityToken"):
        raise FailedDecryption("the EncryptedKey references a token that is not there")
    named = _certificate(bst, FailedDecryption)
    if named.fingerprint(hashes.SHA256()) != cert.fingerprint(hashes.SHA256()):
        raise FailedDecryption("the message is encrypted for another certificate than ours")


def _signer_token(signature: etree._Element, ids: dict[str, etree._Element]) -> x509.Certificate:
    ref = signature.find(
        f"{q(DS, 'KeyInfo')}/{q(WSSE, 'SecurityTokenReference')}/{q(WSSE, 'Reference')}"
    )
    if ref is None:
        raise FailedAuthentication(
            "the signature does not reference a BinarySecurityToken directly"
        )
    bst = ids.get(ref.get("URI", "").removeprefix("#"))
    if bst is None or bst.tag != q(WSSE, "BinarySecurityToken"):
        raise FailedAuthentication(
            "the signature's token reference resolves to no BinarySecurityToken"
        )
    return _certificate(bst, FailedAuthentication)


def _certificate(bst: etree._Element, error: type[Exception]) -> x509.Certificate:
    if bst.get("ValueType") != ns.X509V3:
        raise PolicyNoncompliance(f"unsupported token type {bst.get('ValueType')!r}")
    try:
        return certs.load_der_certificate(_b64decode(ns.text(bst), error))
    except ValueError:
        raise error("a BinarySecurityToken holds no readable X.509 certificate") from None


def _prefix_list(el: etree._Element) -> tuple[str, ...]:
    inc = el.find(q(ns.C14N_EXC, "InclusiveNamespaces"))
    return tuple(inc.get("PrefixList", "").split()) if inc is not None else ()


def _one(
    parent: etree._Element, namespace: str, local: str, error: type[Exception]
) -> etree._Element:
    found = ns.children(parent, namespace, local)
    if len(found) != 1:
        raise error(f"expected one {local} in {etree.QName(parent).localname}, found {len(found)}")
    return found[0]


def _require(value: str | None, expected: str, what: str) -> None:
    if value != expected:
        raise PolicyNoncompliance(f"{what} {value!r} is not the profile's {expected!r}")


def _cid(uri: str) -> str:
    # RFC 2392: a cid: URL is the Content-ID, %-encoded, without brackets.
    return unquote(uri[4:]).strip("<>")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: str, error: type[Exception]) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise error("a value is not valid base64") from None
