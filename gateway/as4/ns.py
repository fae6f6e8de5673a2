"""Namespaces, algorithm identifiers and profile values of the Peppol AS4
profile, plus the few XML helpers every AS4 module shares.

Values are those of the Peppol AS4 profile 2.0.3 (on CEF eDelivery AS4
1.14), the OASIS ebMS 3.0 Core, WS-Security 1.1 with the SwA profile 1.1,
XML Signature and XML Encryption 1.1. Pure: no I/O.
"""

from __future__ import annotations

import re
import threading

from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from gateway.as4.errors import InvalidHeader

# --- namespaces ------------------------------------------------------------

S12 = "http://www.w3.org/2003/05/soap-envelope"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
EBBP = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
XML = "http://www.w3.org/XML/1998/namespace"

# Prefixes of the envelopes we write; exclusive C14N makes them part of what
# is digested, so they are fixed rather than left to lxml.
NSMAP = {
    "S12": S12,
    "eb": EB,
    "wsse": WSSE,
    "wsse11": WSSE11,
    "wsu": WSU,
    "ds": DS,
    "xenc": XENC,
    "xenc11": XENC11,
    "ebbp": EBBP,
}

# --- algorithms ------------------------------------------------------------
# signxml's enums name the XML Signature identifiers; the SwA and XML
# Encryption 1.1 ones are not in it.

C14N_EXC = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value
RSA_SHA256 = SignatureMethod.RSA_SHA256.value
SHA256 = DigestAlgorithm.SHA256.value
_SWA = "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#"
SWA_CONTENT_SIGNATURE = _SWA + "Attachment-Content-Signature-Transform"
SWA_CIPHERTEXT = _SWA + "Attachment-Ciphertext-Transform"
SWA_CONTENT_ONLY = _SWA + "Attachment-Content-Only"
AES128_GCM = XENC11 + "aes128-gcm"
RSA_OAEP = XENC11 + "rsa-oaep"
MGF1_SHA256 = XENC11 + "mgf1sha256"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
# A token type URI, not a secret.
ENCRYPTED_KEY_TOKEN = (
    "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"  # noqa: S105
)

# --- Peppol AS4 profile values (Peppol AS4 2.0.3 §5, "Message packaging") --

AP_PARTY_TYPE = "urn:fdc:peppol.eu:2017:identifiers:ap"
ROLE_INITIATOR = EB + "initiator"
ROLE_RESPONDER = EB + "responder"
AGREEMENT = "urn:fdc:peppol.eu:2017:agreements:tia:ap_provider"
SERVICE_TYPE = "cenbii-procid-ubl"
DOCTYPE_SCHEME = "busdox-docid-qns"
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
ORIGINAL_SENDER = "originalSender"
FINAL_RECIPIENT = "finalRecipient"
GZIP = "application/gzip"

# --- XML helpers -----------------------------------------------------------

# NCName (XML Namespaces 1.0 §3) restricted to what we ever write: a letter
# or underscore, then letters, digits, '.', '-' or '_'. Strict receivers
# refuse a wsu:Id with a leading digit.
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9._\-]*\Z")
_local = threading.local()


def q(ns: str, local: str) -> str:
    """Clark notation: ``{ns}local``."""
    return f"{{{ns}}}{local}"


WSU_ID = q(WSU, "Id")


def is_ncname(value: str) -> bool:
    return bool(_NCNAME.match(value))


def parse_xml(data: bytes | memoryview, what: str) -> etree._Element:
    """Parse a SOAP envelope (or other small AS4 XML) safely: no DTD, no
    entities, no network, no huge text nodes. Raises InvalidHeader."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        # One parser per thread: lxml parsers must not be shared between threads.
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
        )
        _local.parser = parser
    try:
        root = etree.fromstring(bytes(data), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidHeader(f"{what} is not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        # A DOCTYPE can only serve entity tricks here; no AS4 envelope has one.
        raise InvalidHeader(f"{what} has a DOCTYPE, which is not allowed")
    return root


def child(parent: etree._Element, ns: str, local: str) -> etree._Element | None:
    return parent.find(q(ns, local))


def children(parent: etree._Element, ns: str, local: str) -> list[etree._Element]:
    return parent.findall(q(ns, local))


def text(el: etree._Element | None) -> str:
    """The element's text, stripped; "" for a missing element."""
    if el is None or el.text is None:
        return ""
    return el.text.strip()


def sub(parent: etree._Element, ns: str, local: str, value: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, q(ns, local))
    if value is not None:
        el.text = value
    return el


def exc_c14n(el: etree._Element, prefixes: tuple[str, ...] = ()) -> bytes:
    """Exclusive XML Canonicalization 1.0 without comments of ``el``'s subtree."""
    return etree.tostring(
        el,
        method="c14n",
        exclusive=True,
        with_comments=False,
        inclusive_ns_prefixes=list(prefixes) or None,
    )
