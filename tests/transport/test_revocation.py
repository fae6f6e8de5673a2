"""Reading and verifying CRLs and OCSP responses (the pure core), with CRLs
and responses built and signed by the ``cryptography`` package."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from gateway.pki import revocation
from gateway.pki.certificates import KeyPair
from gateway.pki.revocation import RevocationUnavailable

from .conftest import ALPHA, NOW
from .revocation_pki import build_crl, build_ocsp, issue

CRL_URL = "http://crl.ca.test/ca.crl"
OCSP_URL = "http://ocsp.ca.test/"


@pytest.fixture(scope="module")
def peer(ca: KeyPair) -> x509.Certificate:
    return issue(ca, ALPHA, now=NOW, crl_url=CRL_URL, ocsp_url=OCSP_URL)[1]


def test_sources_are_read_from_the_certificate(ca: KeyPair, peer: x509.Certificate) -> None:
    """A certificate's HTTP CRL and OCSP addresses are read from it; LDAP-only or absent sources
    count as none."""
    found = revocation.sources(peer)
    assert found.crl_urls == (CRL_URL,) and found.ocsp_urls == (OCSP_URL,)
    ldap = issue(ca, ALPHA, now=NOW, crl_url="ldap://dir.ca.test/cn=CA")[1]
    assert not revocation.sources(ldap)
    assert not revocation.sources(issue(ca, ALPHA, now=NOW)[1])


# --- CRL -------------------------------------------------------------------


def test_crl_good_and_revoked(ca: KeyPair, peer: x509.Certificate) -> None:
    """A CRL that does not list the certificate says good until its next update; one that does
    says revoked, with the time and reason."""
    good = revocation.read_crl(build_crl(ca, {}, now=NOW), issuer=ca[1], now=NOW)
    verdict = revocation.crl_verdict(good, peer, now=NOW)
    assert not verdict.revoked and verdict.source == "crl"
    assert verdict.valid_until == NOW + timedelta(hours=1)
    when = NOW - timedelta(days=2)
    listed = build_crl(ca, {peer.serial_number: when}, now=NOW)
    verdict = revocation.crl_verdict(
        revocation.read_crl(listed, issuer=ca[1], now=NOW), peer, now=NOW
    )
    assert verdict.revoked and verdict.revoked_at == when.replace(microsecond=0)
    assert verdict.reason == "key_compromise"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("forged", "does not verify"),
        ("stale", "stale"),
        ("future", "dated in the future"),
        ("garbage", "not a readable CRL"),
        ("other_issuer", "not by the certificate's CA"),
    ],
)
def test_unusable_crls_are_no_answer(
    case: str, words: str, ca: KeyPair, other_ca: KeyPair, peer: x509.Certificate
) -> None:
    """A forged, stale, future-dated, unreadable or foreign-issuer CRL gives no answer, saying
    why."""
    issuer, now, data = ca[1], NOW, b""
    if case == "forged":  # same CA name, another key
        data = build_crl(other_ca, {}, now=NOW)
    elif case == "stale":
        data, now = build_crl(ca, {}, now=NOW), NOW + timedelta(hours=2)
    elif case == "future":
        data = build_crl(ca, {}, now=NOW + timedelta(hours=1))
    elif case == "garbage":
        data = b"<html>proxy error</html>"
    elif case == "other_issuer":
        data = build_crl(ca, {}, now=NOW)
        issuer = issue(ca, "not a CA", now=NOW)[1]
    with pytest.raises(RevocationUnavailable, match=words):
        revocation.read_crl(data, issuer=issuer, now=now)


# --- OCSP ------------------------------------------------------------------


def test_ocsp_good_and_revoked(ca: KeyPair, peer: x509.Certificate) -> None:
    """An OCSP answer says good until its next update, or revoked with the time and reason."""
    answer = build_ocsp(ca, peer, now=NOW)
    verdict = revocation.ocsp_verdict(answer, cert=peer, issuer=ca[1], now=NOW)
    assert not verdict.revoked and verdict.source == "ocsp"
    assert verdict.valid_until == NOW + timedelta(hours=1)
    when = NOW - timedelta(hours=3)
    answer = build_ocsp(ca, peer, now=NOW, revoked_at=when)
    verdict = revocation.ocsp_verdict(answer, cert=peer, issuer=ca[1], now=NOW)
    assert verdict.revoked and verdict.revoked_at == when.replace(microsecond=0)
    assert verdict.reason == "key_compromise"


def test_ocsp_from_a_delegated_responder(ca: KeyPair, peer: x509.Certificate) -> None:
    """An OCSP answer signed by a responder the CA delegated is believed."""
    responder = issue(ca, "OCSP responder", now=NOW, ocsp_signing=True)
    answer = build_ocsp(ca, peer, now=NOW, signer=responder)
    assert not revocation.ocsp_verdict(answer, cert=peer, issuer=ca[1], now=NOW).revoked


def test_ocsp_without_next_update_is_believed_briefly(ca: KeyPair, peer: x509.Certificate) -> None:
    """An OCSP answer without a next update is believed only for a short fixed time."""
    answer = build_ocsp(ca, peer, now=NOW, next_update=None)
    verdict = revocation.ocsp_verdict(answer, cert=peer, issuer=ca[1], now=NOW)
    assert verdict.valid_until == NOW + revocation.NO_NEXT_UPDATE_VALIDITY


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("forged", "not signed by the CA"),
        ("responder_without_eku", "not signed by the CA"),
        ("responder_of_other_ca", "not signed by the CA"),
        ("other_certificate", "not about this certificate"),
        ("unknown", "does not know the certificate"),
        ("stale", "stale"),
        ("unauthorized", "UNAUTHORIZED"),
        ("garbage", "not a readable OCSP response"),
    ],
)
def test_unusable_ocsp_answers_are_no_answer(
    case: str, words: str, ca: KeyPair, other_ca: KeyPair, peer: x509.Certificate
) -> None:
    """OCSP answers that are forged, from an unauthorised or foreign responder, about another
    certificate, unknown, stale, unsuccessful or unreadable give no answer, saying why."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509 import ocsp

    now = NOW
    if case == "forged":
        data = build_ocsp(ca, peer, now=NOW, signer=other_ca)
    elif case == "responder_without_eku":
        data = build_ocsp(ca, peer, now=NOW, signer=issue(ca, "responder", now=NOW))
    elif case == "responder_of_other_ca":
        signer = issue(other_ca, "responder", now=NOW, ocsp_signing=True)
        data = build_ocsp(ca, peer, now=NOW, signer=signer)
    elif case == "other_certificate":
        data = build_ocsp(ca, issue(ca, ALPHA, now=NOW)[1], now=NOW)
    elif case == "unknown":
        data = build_ocsp(ca, peer, now=NOW, unknown=True)
    elif case == "stale":
        data, now = build_ocsp(ca, peer, now=NOW), NOW + timedelta(hours=2)
    elif case == "unauthorized":
        failed = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        data = failed.public_bytes(serialization.Encoding.DER)
    else:
        data = b"\x30\x03\x0a\x01"
    with pytest.raises(RevocationUnavailable, match=words):
        revocation.ocsp_verdict(data, cert=peer, issuer=ca[1], now=now)


def test_ocsp_request_names_the_certificate(ca: KeyPair, peer: x509.Certificate) -> None:
    """The OCSP request we send asks about the certificate's serial number."""
    from cryptography.x509 import ocsp

    asked = ocsp.load_der_ocsp_request(revocation.ocsp_request(peer, ca[1]))
    assert asked.serial_number == peer.serial_number
