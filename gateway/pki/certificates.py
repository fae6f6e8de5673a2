"""Certificates for the exchange between gateways: loading, checking and a dev PKI.

DEVELOPMENT ONLY: ``create_dev_ca``, ``issue_ap_certificate`` and
``write_dev_pki`` make a throwaway CA so that local networks can trust each
other. A production access point uses certificates from its network's real
CA (for Peppol, the OpenPeppol AP CA); only the loading and checking
functions here are meant for production use.

Pure: no clock reads (``now`` is passed in) and no file I/O, except in
``write_dev_pki``. Callers read the PEM bytes themselves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.errors import SecurityError

KeyPair = tuple[rsa.RSAPrivateKey, x509.Certificate]

DEV_ORGANIZATION = "einvoice-gateway DEVELOPMENT ONLY"
DEV_CA_NAME = "einvoice-gateway Development CA"

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


# --- issuing (development only) --------------------------------------------


def generate_key(key_size: int = 2048) -> rsa.RSAPrivateKey:
    """A new RSA key. 2048 bits keeps tests fast; pass 3072 for longer-lived keys."""
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def create_dev_ca(
    *, now: datetime, days: int = 3650, name: str = DEV_CA_NAME, key_size: int = 2048
) -> KeyPair:
    """DEVELOPMENT ONLY: a self-signed CA to issue access point certificates from."""
    key = generate_key(key_size)
    subject = _dev_name(name)
    public = key.public_key()
    builder = (
        _builder(subject, subject, public, now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return key, builder.sign(key, hashes.SHA256())


def issue_ap_certificate(
    ca: KeyPair,
    ap_id: str,
    *,
    now: datetime,
    days: int,
    key: rsa.RSAPrivateKey | None = None,
) -> KeyPair:
    """DEVELOPMENT ONLY: an access point certificate whose CN is ``ap_id``."""
    if not ap_id.strip():
        raise ValueError("the access point id (certificate CN) must not be empty")
    ca_key, ca_cert = ca
    key = key or generate_key()
    public = key.public_key()
    builder = (
        _builder(_dev_name(ap_id), ca_cert.subject, public, now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    return key, builder.sign(ca_key, hashes.SHA256())


def _dev_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public: rsa.RSAPublicKey,
    now: datetime,
    days: int,
) -> x509.CertificateBuilder:
    _require_aware(now)
    if days <= 0:
        raise ValueError(f"certificate validity must be at least one day; got {days}")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --- loading and serialising -----------------------------------------------


def load_private_key(pem: bytes, *, source: str = "private key") -> rsa.RSAPrivateKey:
    """An unencrypted RSA private key from PEM; ``source`` names it in errors."""
    label = _pem_label(pem, source)
    if "PRIVATE KEY" not in label:
        raise SecurityError(f"{source}: expected a PEM private key, found {label!r}")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        # The gateway starts unattended, so it cannot prompt for a passphrase.
        raise SecurityError(
            f"{source}: the private key is encrypted; give an unencrypted key "
            "and protect it with file permissions (0600)"
        ) from None
    except ValueError as exc:
        raise SecurityError(f"{source}: not a readable private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SecurityError(f"{source}: only RSA keys are supported, not {type(key).__name__}")
    return key


def load_certificate(pem: bytes, *, source: str = "certificate") -> x509.Certificate:
    """The first certificate of a PEM file."""
    return load_certificates(pem, source=source)[0]


def load_certificates(pem: bytes, *, source: str = "certificates") -> list[x509.Certificate]:
    """Every certificate of a PEM file (a CA bundle may hold several)."""
    label = _pem_label(pem, source)
    if label != "CERTIFICATE":
        raise SecurityError(f"{source}: expected a PEM certificate, found {label!r}")
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise SecurityError(f"{source}: not a readable certificate ({exc})") from None


def load_der_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate from outside (a WS-Security token, an SMP answer),
    read whole: ValueError for anything malformed.

    cryptography parses the names, extensions and key only when first asked,
    so a certificate with a broken issuer "loads" and then fails deep inside
    a trust check. Asking for every part here makes it a clean refusal.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = (cert.subject, cert.issuer, cert.extensions, cert.public_key())
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.signature_hash_algorithm)
    except ValueError:
        raise
    except Exception as exc:  # unsupported algorithms, duplicate extensions, ...
        raise ValueError(f"unreadable certificate ({type(exc).__name__}: {exc})") from None
    return cert


def load_key_pair(
    key_pem: bytes, cert_pem: bytes, *, key_source: str = "key", cert_source: str = "certificate"
) -> KeyPair:
    """Our own key and certificate, refused when they do not belong together."""
    key = load_private_key(key_pem, source=key_source)
    cert = load_certificate(cert_pem, source=cert_source)
    check_key_matches(key, cert, source=f"{key_source} / {cert_source}")
    return key, cert


def check_key_matches(
    key: rsa.RSAPrivateKey, cert: x509.Certificate, *, source: str = "key pair"
) -> None:
    public = cert.public_key()
    if (
        not isinstance(public, rsa.RSAPublicKey)
        or public.public_numbers() != key.public_key().public_numbers()
    ):
        raise SecurityError(
            f"{source}: the private key does not match the certificate "
            f"(CN {common_name(cert)!r}, fingerprint {fingerprint(cert)})"
        )


def _pem_label(pem: bytes, source: str) -> str:
    match = _PEM_LABEL.search(pem)
    if match is None:
        raise SecurityError(
            f"{source}: not a PEM file (no '-----BEGIN ...-----' line; "
            "a DER file can be converted with 'openssl x509 -inform der')"
        )
    return match.group(1).decode("ascii")


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return None
    value = names[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


# --- trust -----------------------------------------------------------------


def check_peer_certificate(
    cert: x509.Certificate,
    *,
    pinned: x509.Certificate | None,
    cas: Sequence[x509.Certificate],
    expected_cn: str,
    now: datetime,
) -> None:
    """Accept ``cert`` as the certificate of access point ``expected_cn`` or
    raise SecurityError saying why not.

    A pin narrows trust; it never replaces the CA check, so a pinned
    certificate from an untrusted CA is still refused.
    """
    _require_aware(now)
    _check_period(cert, now, "certificate")
    _check_issuer(cert, cas, now)
    _check_usage(cert)
    cn = common_name(cert)
    if cn != expected_cn:
        raise SecurityError(
            f"certificate is for access point {cn!r}, expected {expected_cn!r}",
            reason="wrong_cn",
        )
    if pinned is not None and fingerprint(pinned) != fingerprint(cert):
        raise SecurityError(
            f"certificate {fingerprint(cert)} is not the pinned certificate "
            f"{fingerprint(pinned)} of access point {expected_cn!r}",
            reason="not_pinned",
        )


def _check_period(cert: x509.Certificate, now: datetime, what: str) -> None:
    if now < cert.not_valid_before_utc:
        raise SecurityError(
            f"{what} {common_name(cert)!r} is not yet valid (valid from "
            f"{cert.not_valid_before_utc.isoformat()})",
            reason="not_yet_valid",
        )
    if now > cert.not_valid_after_utc:
        raise SecurityError(
            f"{what} {common_name(cert)!r} expired on {cert.not_valid_after_utc.isoformat()}",
            reason="expired",
        )


def _check_issuer(cert: x509.Certificate, cas: Sequence[x509.Certificate], now: datetime) -> None:
    if not cas:
        raise SecurityError(
            "no trusted CA certificates are configured (network.ca_certificates)",
            reason="untrusted_issuer",
        )
    for ca in cas:
        if ca.subject != cert.issuer or not _is_ca(ca):
            continue
        try:
            # Same-named CAs are common (every dev CA has one name), so the
            # name match alone proves nothing: the signature decides.
            cert.verify_directly_issued_by(ca)
        except (InvalidSignature, ValueError, TypeError):
            continue
        _check_period(ca, now, "issuing CA certificate")
        return
    raise SecurityError(
        f"certificate {common_name(cert)!r} is not issued by a trusted CA "
        f"(issuer {cert.issuer.rfc4514_string()!r})",
        reason="untrusted_issuer",
    )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _check_usage(cert: x509.Certificate) -> None:
    if _is_ca(cert):
        raise SecurityError("a CA certificate cannot act as an access point", reason="usage")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise SecurityError("certificate is not allowed to sign (keyUsage)", reason="usage")


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")


# --- development PKI on disk -----------------------------------------------


@dataclass(frozen=True)
class DevPki:
    """DEVELOPMENT ONLY: where ``write_dev_pki`` put the files."""

    ca_certificate: Path  # ca.pem: list it in network.ca_certificates
    ca_key: Path  # ca.key: only needed to issue more dev certificates
    key: Path  # ap.key: network.key
    certificate: Path  # ap.pem: network.certificate, and the peers' pin


def write_dev_pki(
    directory: Path,
    ap_id: str,
    *,
    now: datetime,
    ca: KeyPair | None = None,
    ca_dir: Path | None = None,
    days: int = 365,
) -> DevPki:
    """DEVELOPMENT ONLY: write ca.pem, ca.key, ap.key and ap.pem into ``directory``.

    The CA is ``ca`` when given, else the one in ``ca_dir`` (the directory of
    an earlier ``write_dev_pki``), else a new one: two dev networks that
    share a CA trust each other with no further set-up. Keys are written
    with mode 0600.
    """
    if ca is None and ca_dir is not None:
        ca = _read_dev_ca(ca_dir)
    ca = ca or create_dev_ca(now=now)
    key, cert = issue_ap_certificate(ca, ap_id, now=now, days=days)
    directory.mkdir(parents=True, exist_ok=True)
    pki = DevPki(
        ca_certificate=directory / "ca.pem",
        ca_key=directory / "ca.key",
        key=directory / "ap.key",
        certificate=directory / "ap.pem",
    )
    _write(pki.ca_certificate, certificate_pem(ca[1]), 0o644)
    _write(pki.ca_key, key_pem(ca[0]), 0o600)
    _write(pki.key, key_pem(key), 0o600)
    _write(pki.certificate, certificate_pem(cert), 0o644)
    return pki


def _read_dev_ca(ca_dir: Path) -> KeyPair:
    key_path, cert_path = ca_dir / "ca.key", ca_dir / "ca.pem"
    try:
        key_pem_bytes, cert_pem_bytes = key_path.read_bytes(), cert_path.read_bytes()
    except OSError as exc:
        raise SecurityError(
            f"{ca_dir}: no development CA to reuse ({exc.filename}: {exc.strerror})"
        ) from None
    return load_key_pair(
        key_pem_bytes, cert_pem_bytes, key_source=str(key_path), cert_source=str(cert_path)
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        # os.open's mode only applies to a new file; an old one keeps its own.
        os.fchmod(f.fileno(), mode)
        f.write(data)
