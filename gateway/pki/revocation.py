"""Is a peer's certificate revoked? Reading and verifying CRLs and OCSP answers.

Pure: the caller fetches the bytes (``gateway.transport.revocation_client``) and
passes ``now``. Every function either returns a Verdict that can be believed
until its ``valid_until`` or raises RevocationUnavailable saying why the
answer cannot be believed (unsigned, stale, about another certificate, ...):
an unusable answer is treated like an unreachable server, never as "good".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

# Clocks of responders and ours differ a little; a thisUpdate this far in
# the future is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
# An OCSP answer without nextUpdate means "newer information is always
# available" (RFC 6960 4.2.2.1): believe it only briefly.
NO_NEXT_UPDATE_VALIDITY = timedelta(minutes=5)


class RevocationUnavailable(Exception):
    """No usable answer: the reason says what was wrong with it."""


@dataclass(frozen=True)
class Sources:
    """Where a certificate says its revocation status is published."""

    crl_urls: tuple[str, ...]
    ocsp_urls: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.crl_urls or self.ocsp_urls)


@dataclass(frozen=True)
class Verdict:
    revoked: bool
    source: str  # "crl" or "ocsp"
    valid_until: datetime  # when to ask again
    revoked_at: datetime | None = None
    reason: str = ""  # the CRL/OCSP revocation reason, when given
    url: str = ""  # where the answer came from (set by the fetching side)


def sources(cert: x509.Certificate) -> Sources:
    """The HTTP CRL Distribution Points and OCSP responders ``cert`` names
    (LDAP and other schemes are ignored: we only speak HTTP)."""
    crls: list[str] = []
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        points = x509.CRLDistributionPoints([])
    for point in points:
        crls.extend(_http(name) for name in point.full_name or () if _http(name))
    ocsps: list[str] = []
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        access = x509.AuthorityInformationAccess([])
    for desc in access:
        if desc.access_method == AuthorityInformationAccessOID.OCSP and _http(desc.access_location):
            ocsps.append(_http(desc.access_location))
    return Sources(tuple(crls), tuple(ocsps))


def _http(name: x509.GeneralName) -> str:
    if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(
        ("http://", "https://")
    ):
        return name.value
    return ""


# --- CRLs ------------------------------------------------------------------


def read_crl(
    data: bytes, *, issuer: x509.Certificate, now: datetime
) -> x509.CertificateRevocationList:
    """A CRL (DER or PEM) checked to be signed by ``issuer`` and current at ``now``."""
    try:
        crl = (
            x509.load_pem_x509_crl(data)
            if data.lstrip().startswith(b"-----BEGIN")
            else x509.load_der_x509_crl(data)
        )
    except ValueError as exc:
        raise RevocationUnavailable(f"not a readable CRL ({exc})") from None
    if crl.issuer != issuer.subject:
        raise RevocationUnavailable(
            f"the CRL is issued by {crl.issuer.rfc4514_string()!r}, "
            f"not by the certificate's CA {issuer.subject.rfc4514_string()!r}"
        )
    if not _crl_signed_by(crl, issuer):
        raise RevocationUnavailable("the CRL's signature does not verify with the CA's key")
    _check_window(crl.last_update_utc, crl.next_update_utc, now, "CRL")
    return crl


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return False
    try:
        return crl.is_signature_valid(key)
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return False


def crl_verdict(
    crl: x509.CertificateRevocationList, cert: x509.Certificate, *, now: datetime
) -> Verdict:
    """What a CRL read by ``read_crl`` says of ``cert`` (issued by the same CA)."""
    until = crl.next_update_utc or now + NO_NEXT_UPDATE_VALIDITY
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is None:
        return Verdict(revoked=False, source="crl", valid_until=until)
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        reason = ""
    return Verdict(
        revoked=True,
        source="crl",
        valid_until=until,
        revoked_at=entry.revocation_date_utc,
        reason=reason,
    )


# --- OCSP ------------------------------------------------------------------


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """A DER OCSP request for ``cert``. No nonce: most CA responders
    (OpenPeppol's among them) answer from pre-signed responses and ignore it,
    and the answer's own validity window bounds replays."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303
    return builder.build().public_bytes(serialization.Encoding.DER)


def ocsp_verdict(
    data: bytes, *, cert: x509.Certificate, issuer: x509.Certificate, now: datetime
) -> Verdict:
    """What an OCSP response says of ``cert``, once its signature (by the CA
    or by a responder the CA delegated with id-kp-OCSPSigning) and validity
    window check out. An "unknown" status is no answer."""
    try:
        resp = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        raise RevocationUnavailable(f"not a readable OCSP response ({exc})") from None
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise RevocationUnavailable(f"the OCSP responder answered {resp.response_status.name}")
    _check_ocsp_signature(resp, issuer, now)
    single = _single_response(resp, cert, issuer)
    _check_window(single.this_update_utc, single.next_update_utc, now, "OCSP response")
    until = single.next_update_utc or now + NO_NEXT_UPDATE_VALIDITY
    status = single.certificate_status
    if status == ocsp.OCSPCertStatus.UNKNOWN:
        raise RevocationUnavailable("the OCSP responder does not know the certificate")
    if status == ocsp.OCSPCertStatus.GOOD:
        return Verdict(revoked=False, source="ocsp", valid_until=until)
    reason = single.revocation_reason
    return Verdict(
        revoked=True,
        source="ocsp",
        valid_until=until,
        revoked_at=single.revocation_time_utc,
        reason=reason.name if reason is not None else "",
    )


def _single_response(
    resp: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse:
    """The response's entry about ``cert``: same serial and same issuer (its
    name and key hashed with the hash the responder chose)."""
    for single in resp.responses:
        if single.serial_number != cert.serial_number:
            continue
        expected = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, single.hash_algorithm)
        request = expected.build()
        if (request.issuer_name_hash, request.issuer_key_hash) == (
            single.issuer_name_hash,
            single.issuer_key_hash,
        ):
            return single
    raise RevocationUnavailable("the OCSP response is not about this certificate")


def _check_ocsp_signature(resp: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime) -> None:
    if _verifies(issuer, resp):
        return
    for responder in resp.certificates:
        # A delegated responder: issued by the same CA for OCSP signing only.
        if (
            responder.issuer == issuer.subject
            and issued_by(responder, issuer)
            and _may_sign_ocsp(responder)
            and responder.not_valid_before_utc <= now <= responder.not_valid_after_utc
            and _verifies(responder, resp)
        ):
            return
    raise RevocationUnavailable(
        "the OCSP response is not signed by the CA or by a responder it authorised"
    )


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _may_sign_ocsp(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usage


def _verifies(signer: x509.Certificate, resp: ocsp.OCSPResponse) -> bool:
    key, algorithm = signer.public_key(), resp.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _check_window(
    this_update: datetime, next_update: datetime | None, now: datetime, what: str
) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    if this_update > now + CLOCK_SKEW:
        raise RevocationUnavailable(f"the {what} is dated in the future ({this_update})")
    if next_update is not None and next_update < now:
        raise RevocationUnavailable(f"the {what} is stale: its nextUpdate was {next_update}")
