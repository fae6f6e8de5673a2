"""Peppol discovery, the pure part: the SMP 1.x documents (ServiceGroup,
SignedServiceMetadata) and lookup results. Identifiers in SMP URLs and SML
names are in ``smp_names``.

No I/O and no clock: callers pass ``now`` and a ``trust`` check. The HTTP
sides are ``transport/smp_server.py`` and ``transport/smp_client.py``.

References: Peppol "Service Metadata Publishing (SMP)" 1.x (namespace
``http://busdox.org/serviceMetadata/publishing/1.0/``), Peppol "Service
Metadata Locator (SML)" and the Peppol Policy for use of Identifiers 4.x.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.algorithms import SignatureConstructionMethod as Construction
from signxml.exceptions import SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from gateway.config.settings import LimitSettings
from gateway.directory.smp_names import parse_doctype_segment, service_url
from gateway.errors import GatewayError, SecurityError
from gateway.model import (
    DOCTYPE_SCHEME,
    PARTICIPANT_SCHEME,
    PROCESS_SCHEME,
    InvalidIdentifier,
    ParticipantId,
)
from gateway.pki.certificates import common_name, load_der_certificate
from gateway.validation.parse import parse_xml

SMP_NS = "http://busdox.org/serviceMetadata/publishing/1.0/"
IDS_NS = "http://busdox.org/transport/identifiers/1.0/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_NSMAP = {"smp": SMP_NS, "id": IDS_NS, "wsa": WSA_NS, "ds": DS_NS}

AS4_PROFILE = "peppol-transport-as4-v2_0"  # Peppol AS4 profile 2.x transport profile id

# SMP answers are a few kilobytes; these bounds refuse anything built to hurt.
SMP_LIMITS = LimitSettings(max_document_bytes=1024 * 1024, max_depth=32, max_elements=50_000)


class MetadataError(GatewayError):
    """An SMP answer that cannot be understood: asking again may help."""

    code = "smp_invalid"


class NoService(GatewayError):
    """Valid, signed metadata without an endpoint we can use: a final answer."""

    code = "smp_no_service"


# --- results ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how a participant receives one document type."""

    participant: ParticipantId
    document_type: str
    process: str
    transport_profile: str
    url: str
    certificate: x509.Certificate  # the receiving access point's certificate
    activation: datetime | None
    expiration: datetime | None


@dataclass(frozen=True, slots=True)
class Found:
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class NotRegistered:
    """Permanent: the SMP says there is no such participant or service. Never retried."""

    reason: str


@dataclass(frozen=True, slots=True)
class LookupFailed:
    """Transient: the SMP could not be asked or its answer not trusted. Retried."""

    reason: str


LookupResult = Found | NotRegistered | LookupFailed


# --- building ----------------------------------------------------------------


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A child named ``prefix:local`` (prefixes of ``_NSMAP``)."""
    prefix, local = name.split(":")
    child = etree.SubElement(parent, f"{{{_NSMAP[prefix]}}}{local}", attrs)
    child.text = text
    return child


def service_group_xml(pid: ParticipantId, doctypes: Iterable[str], base_url: str) -> bytes:
    """The ServiceGroup of ``pid``; ``base_url`` is the SMP base (``.../smp``)."""
    root = etree.Element(f"{{{SMP_NS}}}ServiceGroup", nsmap=_NSMAP)
    _el(root, "id:ParticipantIdentifier", str(pid), scheme=PARTICIPANT_SCHEME)
    refs = _el(root, "smp:ServiceMetadataReferenceCollection")
    for doctype in doctypes:
        _el(refs, "smp:ServiceMetadataReference", href=service_url(base_url, pid, doctype))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _xs_datetime(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64_der(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def signed_service_metadata_xml(
    pid: ParticipantId,
    doctype: str,
    process: str,
    endpoint_url: str,
    ap_certificate: x509.Certificate,
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    activation: datetime | None,
    expiration: datetime | None,
    now: datetime,
    *,
    description: str = "Access point",
    contact_url: str = "",
) -> bytes:
    """SignedServiceMetadata for one participant and document type, with an
    enveloped RSA-SHA256 signature by ``key`` (its certificate ``cert``)."""
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        # Every client would refuse it: better to fail here, loudly.
        raise SecurityError(f"signing certificate {common_name(cert)!r} is not valid at {now}")
    if activation and expiration and expiration <= activation:
        raise ValueError("the service expiration must come after its activation")
    root = etree.Element(f"{{{SMP_NS}}}SignedServiceMetadata", nsmap=_NSMAP)
    info = _el(_el(root, "smp:ServiceMetadata"), "smp:ServiceInformation")
    _el(info, "id:ParticipantIdentifier", str(pid), scheme=PARTICIPANT_SCHEME)
    _el(info, "id:DocumentIdentifier", doctype, scheme=DOCTYPE_SCHEME)
    proc = _el(_el(info, "smp:ProcessList"), "smp:Process")
    _el(proc, "id:ProcessIdentifier", process, scheme=PROCESS_SCHEME)
    ep = _el(_el(proc, "smp:ServiceEndpointList"), "smp:Endpoint", transportProfile=AS4_PROFILE)
    _el(_el(ep, "wsa:EndpointReference"), "wsa:Address", endpoint_url)
    # The XSD fixes this order; the optional dates sit between the flag and the certificate.
    _el(ep, "smp:RequireBusinessLevelSignature", "false")
    if activation is not None:
        _el(ep, "smp:ServiceActivationDate", _xs_datetime(activation))
    if expiration is not None:
        _el(ep, "smp:ServiceExpirationDate", _xs_datetime(expiration))
    _el(ep, "smp:Certificate", _b64_der(ap_certificate))
    _el(ep, "smp:ServiceDescription", description)
    _el(ep, "smp:TechnicalContactUrl", contact_url)
    return etree.tostring(_sign(root, key, cert), xml_declaration=True, encoding="UTF-8")


def _sign(root: etree._Element, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> etree._Element:
    # SMP 1.x: enveloped signature over the whole document (URI=""), inclusive
    # C14N 1.0, RSA-SHA256 and SHA-256; KeyInfo names and carries the certificate.
    key_info = etree.Element(f"{{{DS_NS}}}KeyInfo", nsmap={"ds": DS_NS})
    data = _el(key_info, "ds:X509Data")
    _el(data, "ds:X509SubjectName", cert.subject.rfc4514_string())
    _el(data, "ds:X509Certificate", _b64_der(cert))
    signer = XMLSigner(
        method=Construction.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signed: etree._Element = signer.sign(root, key=key, cert=[cert], key_info=key_info)
    return signed


# --- parsing ---------------------------------------------------------------


def _parse(xml: bytes, limits: LimitSettings, root_name: str) -> etree._Element:
    root = parse_xml(xml, limits)  # InputError for anything hostile or broken
    if root.tag != f"{{{SMP_NS}}}{root_name}":
        raise MetadataError(f"expected an SMP {root_name}, found {etree.QName(root).localname!r}")
    return root


def parse_service_group(xml: bytes, *, limits: LimitSettings = SMP_LIMITS) -> list[str]:
    """The document types a ServiceGroup lists, from its reference URLs."""
    root = _parse(xml, limits, "ServiceGroup")
    out = []
    for ref in root.iterfind("smp:ServiceMetadataReferenceCollection/*", _NSMAP):
        # Split the raw href: a sloppy SMP's unencoded "#" must not become a fragment.
        _, sep, segment = ref.get("href", "").rpartition("/services/")
        try:
            if not sep:
                raise InvalidIdentifier("no /services/ part")
            out.append(parse_doctype_segment(segment))
        except InvalidIdentifier as exc:
            raise MetadataError(f"service reference {ref.get('href')!r}: {exc}") from None
    return out


def parse_signed_service_metadata(
    xml: bytes,
    *,
    trust: Callable[[x509.Certificate], None],
    limits: LimitSettings = SMP_LIMITS,
    process: str | None = None,
    transport_profile: str = AS4_PROFILE,
) -> Endpoint:
    """The endpoint of verified SignedServiceMetadata.

    ``trust`` must raise (SecurityError) for a signer it does not accept.
    Raises SecurityError for a bad or untrusted signature, InputError or
    MetadataError for an unreadable answer, NoService when the signed answer
    has no endpoint for ``transport_profile`` (and ``process``, when given).
    """
    root = _parse(xml, limits, "SignedServiceMetadata")
    found = root.findall("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NSMAP)
    if len(found) != 1:
        raise SecurityError(f"expected one signing certificate, found {len(found)}")
    signer = _certificate(found[0].text or "", "signing certificate")
    trust(signer)
    return _endpoint(_verified(root, signer), process, transport_profile)


def _certificate(text: str, what: str) -> x509.Certificate:
    # Some SMPs wrap the base64 in PEM armour or lines; the DER inside is what counts.
    body = "".join(w for w in text.split() if not w.startswith("-----") and "CERTIF" not in w)
    try:
        return load_der_certificate(base64.b64decode(body, validate=True))
    except ValueError as exc:
        raise MetadataError(f"{what} is not a base64 DER certificate ({exc})") from None


_SIGNATURE_CONFIG = SignatureConfiguration(
    location="./",  # a direct child of SignedServiceMetadata, nowhere else
    expect_references=1,
    signature_methods=frozenset(
        {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512}
    ),
    digest_algorithms=frozenset(
        {DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512}
    ),
)


def _verified(root: etree._Element, signer: x509.Certificate) -> etree._Element:
    """What the signature covers, and only that, once it is shown to be ``signer``'s."""
    # The caller's trust check judged the validity period by its own clock;
    # this time only keeps signxml from reading the system clock.
    config = replace(_SIGNATURE_CONFIG, verification_time=signer.not_valid_before_utc)
    try:
        result = XMLVerifier().verify(root, x509_cert=signer, expect_config=config)
    except (SignXMLException, ValueError) as exc:
        raise SecurityError(f"SMP signature refused: {exc}") from None
    except Exception as exc:  # a malformed Signature trips signxml in many ways: all refuse
        raise SecurityError(f"SMP signature unreadable: {type(exc).__name__}: {exc}") from None
    signed = result.signed_xml if isinstance(result, VerifyResult) else None
    # A reference to a part of the document only (signature wrapping) is not
    # a signature over the answer.
    if signed is None or signed.tag != root.tag:
        raise SecurityError("the signature does not cover the whole SignedServiceMetadata")
    return signed


def _endpoint(signed: etree._Element, process: str | None, profile: str) -> Endpoint:
    info = signed.find("smp:ServiceMetadata/smp:ServiceInformation", _NSMAP)
    if info is None:
        if signed.find("smp:ServiceMetadata/smp:Redirect", _NSMAP) is not None:
            raise MetadataError("the SMP answered with a Redirect, which is not followed")
        raise MetadataError("SignedServiceMetadata without ServiceInformation")
    pid = _participant(_text(info, "id:ParticipantIdentifier", PARTICIPANT_SCHEME))
    doctype = _text(info, "id:DocumentIdentifier", DOCTYPE_SCHEME)
    for proc in info.iterfind("smp:ProcessList/smp:Process", _NSMAP):
        proc_id = _text(proc, "id:ProcessIdentifier")
        if process is not None and proc_id != process:
            continue
        for ep in proc.iterfind("smp:ServiceEndpointList/smp:Endpoint", _NSMAP):
            if ep.get("transportProfile") == profile:
                return _endpoint_of(ep, pid, doctype, proc_id, profile)
    wanted = f"process {process} over {profile}" if process else profile
    raise NoService(f"{pid} is registered for {doctype} but not for {wanted}")


def _endpoint_of(
    ep: etree._Element, pid: ParticipantId, doctype: str, process: str, profile: str
) -> Endpoint:
    url = _text(ep, "wsa:EndpointReference/wsa:Address")
    if urlsplit(url).scheme not in ("http", "https"):
        raise MetadataError(f"endpoint address {url!r} is not an http(s) URL")
    return Endpoint(
        participant=pid,
        document_type=doctype,
        process=process,
        transport_profile=profile,
        url=url,
        certificate=_certificate(_text(ep, "smp:Certificate"), "endpoint certificate"),
        activation=_optional_time(ep, "smp:ServiceActivationDate"),
        expiration=_optional_time(ep, "smp:ServiceExpirationDate"),
    )


def _text(parent: etree._Element, path: str, scheme: str | None = None) -> str:
    """The stripped text at ``path``; with ``scheme``, its scheme attribute checked."""
    el = parent.find(path, _NSMAP)
    text = (el.text or "").strip() if el is not None else ""
    if el is None or not text:
        raise MetadataError(f"{etree.QName(parent).localname} has no {path}")
    if scheme is not None and (el.get("scheme") or "").lower() != scheme:
        raise MetadataError(f"{path} has scheme {el.get('scheme')!r}, expected {scheme!r}")
    return text


def _participant(value: str) -> ParticipantId:
    try:
        return ParticipantId.parse(value)
    except InvalidIdentifier as exc:
        raise MetadataError(str(exc)) from None


def _optional_time(ep: etree._Element, path: str) -> datetime | None:
    el = ep.find(path, _NSMAP)
    text = (el.text or "").strip() if el is not None else ""
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise MetadataError(f"{path} {text!r} is not an xs:dateTime") from None
    # A time without a zone is nobody's local time: Peppol SMPs mean UTC.
    return t if t.tzinfo else t.replace(tzinfo=UTC)
