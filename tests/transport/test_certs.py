from __future__ import annotations

import hashlib
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import SecurityError
from gateway.pki.certificates import (
    KeyPair,
    certificate_pem,
    check_key_matches,
    check_peer_certificate,
    common_name,
    create_dev_ca,
    fingerprint,
    issue_ap_certificate,
    key_pem,
    load_certificate,
    load_certificates,
    load_key_pair,
    load_private_key,
    write_dev_pki,
)

from .conftest import ALPHA, BETA, NOW

# --- issuance --------------------------------------------------------------


def test_ca_is_a_self_signed_ca(ca: KeyPair) -> None:
    """The development CA is self-signed, may sign certificates and CRLs, and says DEVELOPMENT in
    its name."""
    _, cert = ca
    assert cert.issuer == cert.subject
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    cert.verify_directly_issued_by(cert)
    assert "DEVELOPMENT" in cert.subject.rfc4514_string()


def test_access_point_certificate(ca: KeyPair) -> None:
    """An issued AP certificate names the AP id as CN, is signed by the CA for exactly the given
    period, may sign and encrypt but not act as a CA, and matches its key."""
    start = NOW - timedelta(hours=1)
    key, cert = issue_ap_certificate(ca, ALPHA, now=start, days=30)
    assert common_name(cert) == ALPHA
    assert cert.issuer == ca[1].subject
    cert.verify_directly_issued_by(ca[1])
    assert cert.not_valid_before_utc == start
    assert cert.not_valid_after_utc == start + timedelta(days=30)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    check_key_matches(key, cert)


def test_issuance_refuses_bad_input(ca: KeyPair) -> None:
    """Issuing a certificate with a naive time, under a day, or an empty AP id is refused saying
    which."""
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_ap_certificate(ca, ALPHA, now=datetime(2026, 1, 1), days=1)
    with pytest.raises(ValueError, match="at least one day"):
        issue_ap_certificate(ca, ALPHA, now=NOW, days=0)
    with pytest.raises(ValueError, match="must not be empty"):
        issue_ap_certificate(ca, " ", now=NOW, days=1)


def test_fingerprint_is_sha256_of_der(alpha: KeyPair) -> None:
    """A certificate's fingerprint is the SHA-256 of its DER bytes."""
    der = alpha[1].public_bytes(serialization.Encoding.DER)
    assert fingerprint(alpha[1]) == hashlib.sha256(der).hexdigest()


# --- the trust check -------------------------------------------------------


def _check(cert: x509.Certificate, cas: list[x509.Certificate], **kw: object) -> None:
    args: dict[str, object] = {"pinned": None, "expected_cn": ALPHA, "now": NOW}
    args.update(kw)
    check_peer_certificate(cert, cas=cas, **args)  # type: ignore[arg-type]


def test_trusted_certificate_passes(ca: KeyPair, alpha: KeyPair) -> None:
    """A certificate from a trusted CA with the expected CN passes, pinned or not."""
    _check(alpha[1], [ca[1]])
    _check(alpha[1], [ca[1]], pinned=alpha[1])


def test_trust_anchor_among_several(ca: KeyPair, other_ca: KeyPair, alpha: KeyPair) -> None:
    """A certificate passes when its CA is any one of several trusted CAs."""
    _check(alpha[1], [other_ca[1], ca[1]])


@pytest.mark.parametrize(
    ("case", "reason", "message"),
    [
        ("expired", "expired", "expired on"),
        ("not_yet_valid", "not_yet_valid", "not yet valid"),
        ("other_ca", "untrusted_issuer", "not issued by a trusted CA"),
        ("wrong_cn", "wrong_cn", "expected 'PALPHA001'"),
        ("pinned_mismatch", "not_pinned", "not the pinned certificate"),
        ("no_cas", "untrusted_issuer", "no trusted CA certificates"),
        ("other_self_signed", "untrusted_issuer", "not issued by a trusted CA"),
        ("ca_as_access_point", "usage", "CA certificate cannot act"),
    ],
)
def test_trust_check_refusals(
    case: str, reason: str, message: str, ca: KeyPair, other_ca: KeyPair, alpha: KeyPair
) -> None:
    """An expired, not yet valid, foreign-CA, wrong-CN, unpinned, anchorless, self-signed or CA
    certificate is refused with 403, its reason and a message saying why."""
    cert, cas, kw = alpha[1], [ca[1]], {}
    if case == "expired":
        cert = issue_ap_certificate(ca, ALPHA, now=NOW - timedelta(days=10), days=5)[1]
    elif case == "not_yet_valid":
        cert = issue_ap_certificate(ca, ALPHA, now=NOW + timedelta(minutes=5), days=5)[1]
    elif case == "other_ca":
        cert = issue_ap_certificate(other_ca, ALPHA, now=NOW, days=5)[1]
    elif case == "wrong_cn":
        cert = issue_ap_certificate(ca, BETA, now=NOW, days=5)[1]
    elif case == "pinned_mismatch":
        kw = {"pinned": issue_ap_certificate(ca, ALPHA, now=NOW, days=5)[1]}
    elif case == "no_cas":
        cas = []
    elif case == "other_self_signed":
        cert = other_ca[1]
    elif case == "ca_as_access_point":
        cert = ca[1]
    with pytest.raises(SecurityError, match=message) as info:
        _check(cert, cas, **kw)
    assert info.value.details["reason"] == reason
    assert info.value.http_status == 403


def test_expired_issuing_ca_is_refused(alpha: KeyPair) -> None:
    """A certificate whose issuing CA has expired is refused saying so."""
    old_ca = create_dev_ca(now=NOW - timedelta(days=20), days=10)
    cert = issue_ap_certificate(old_ca, ALPHA, now=NOW - timedelta(days=15), days=30)[1]
    with pytest.raises(SecurityError, match=r"issuing CA certificate .* expired"):
        _check(cert, [old_ca[1]])


def test_trust_check_needs_an_aware_time(ca: KeyPair, alpha: KeyPair) -> None:
    """The trust check refuses a time without a timezone."""
    with pytest.raises(ValueError, match="timezone-aware"):
        _check(alpha[1], [ca[1]], now=NOW.replace(tzinfo=None))


# --- loading ---------------------------------------------------------------


def test_key_pair_round_trip(alpha: KeyPair) -> None:
    """A key and certificate written as PEM load back as the same pair."""
    key, cert = load_key_pair(key_pem(alpha[0]), certificate_pem(alpha[1]))
    assert fingerprint(cert) == fingerprint(alpha[1])
    assert key.public_key().public_numbers() == alpha[0].public_key().public_numbers()


def test_key_that_does_not_match_the_certificate(alpha: KeyPair, beta: KeyPair) -> None:
    """A private key that does not belong to the certificate is refused naming the key file."""
    with pytest.raises(SecurityError, match="private key does not match the certificate"):
        load_key_pair(key_pem(beta[0]), certificate_pem(alpha[1]), key_source="ap.key")


def test_not_pem() -> None:
    """A key or certificate file that is not PEM is refused naming the file."""
    with pytest.raises(SecurityError, match=r"ap.key: not a PEM file"):
        load_private_key(b"\x30\x82\x01\x02", source="ap.key")
    with pytest.raises(SecurityError, match="not a PEM file"):
        load_certificate(b"hello", source="ap.pem")


def test_wrong_kind_of_pem(alpha: KeyPair) -> None:
    """A certificate given as a key, or a key as a certificate, is refused naming what was found."""
    with pytest.raises(SecurityError, match="expected a PEM private key, found 'CERTIFICATE'"):
        load_private_key(certificate_pem(alpha[1]))
    with pytest.raises(SecurityError, match="expected a PEM certificate, found 'PRIVATE KEY'"):
        load_certificate(key_pem(alpha[0]))


def test_corrupt_pem() -> None:
    """A PEM certificate block with a broken body is refused as unreadable."""
    junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(SecurityError, match="not a readable certificate"):
        load_certificate(junk)


def test_encrypted_key_is_refused_with_advice(alpha: KeyPair) -> None:
    """A password-protected private key is refused saying it is encrypted."""
    pem = alpha[0].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(SecurityError, match="encrypted"):
        load_private_key(pem)


def test_non_rsa_key_is_refused() -> None:
    """An elliptic-curve private key is refused: only RSA keys are supported."""
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(SecurityError, match="only RSA"):
        load_private_key(pem)


def test_bundle_of_certificates(ca: KeyPair, other_ca: KeyPair) -> None:
    """A PEM bundle loads as all its certificates, in order."""
    bundle = certificate_pem(ca[1]) + certificate_pem(other_ca[1])
    assert [fingerprint(c) for c in load_certificates(bundle)] == [
        fingerprint(ca[1]),
        fingerprint(other_ca[1]),
    ]


# --- development PKI on disk -----------------------------------------------


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_write_dev_pki(tmp_path: Path) -> None:
    """The development PKI on disk has key files of mode 0600, matching key pairs, and an AP
    certificate that passes the trust check."""
    pki = write_dev_pki(tmp_path / "certs", ALPHA, now=NOW)
    assert _mode(pki.key) == 0o600
    assert _mode(pki.ca_key) == 0o600
    _, cert = load_key_pair(pki.key.read_bytes(), pki.certificate.read_bytes())
    ca_cert = load_certificate(pki.ca_certificate.read_bytes())
    load_key_pair(pki.ca_key.read_bytes(), pki.ca_certificate.read_bytes())
    check_peer_certificate(cert, pinned=cert, cas=[ca_cert], expected_cn=ALPHA, now=NOW)


def test_rewriting_tightens_an_existing_key_file(tmp_path: Path) -> None:
    """Writing the PKI over an existing world-readable key file replaces it with mode 0600."""
    (tmp_path / "ap.key").write_bytes(b"old")
    (tmp_path / "ap.key").chmod(0o644)
    pki = write_dev_pki(tmp_path, ALPHA, now=NOW)
    assert _mode(pki.key) == 0o600
    assert pki.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_two_networks_share_one_dev_ca(tmp_path: Path, ca: KeyPair) -> None:
    """Two networks made with one CA carry the same CA certificate and trust each other's AP
    certificates."""
    a = write_dev_pki(tmp_path / "a", ALPHA, now=NOW, ca=ca)
    b = write_dev_pki(tmp_path / "b", BETA, now=NOW, ca=ca)
    assert a.ca_certificate.read_bytes() == b.ca_certificate.read_bytes()
    # Each trusts the other's certificate through its own copy of the CA.
    b_cert = load_certificate(b.certificate.read_bytes())
    a_ca = load_certificate(a.ca_certificate.read_bytes())
    check_peer_certificate(b_cert, pinned=None, cas=[a_ca], expected_cn=BETA, now=NOW)


def test_reuse_the_ca_of_another_directory(tmp_path: Path) -> None:
    """A network can reuse the CA of another directory; a directory without a CA is refused
    saying so."""
    a = write_dev_pki(tmp_path / "a", ALPHA, now=NOW)
    b = write_dev_pki(tmp_path / "b", BETA, now=NOW, ca_dir=tmp_path / "a")
    assert a.ca_certificate.read_bytes() == b.ca_certificate.read_bytes()
    with pytest.raises(SecurityError, match="no development CA to reuse"):
        write_dev_pki(tmp_path / "c", BETA, now=NOW, ca_dir=tmp_path / "missing")


def test_fresh_ca_each_time_without_one(tmp_path: Path) -> None:
    """Without a CA given, each development PKI gets a CA of its own."""
    a = write_dev_pki(tmp_path / "a", ALPHA, now=NOW)
    b = write_dev_pki(tmp_path / "b", BETA, now=NOW)
    assert a.ca_certificate.read_bytes() != b.ca_certificate.read_bytes()
