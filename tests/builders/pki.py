"""Keys and certificates for tests: a development CA, two access points it
issued, and the ones a test needs to be refused (a rogue CA with the very
same name, an access point it issued, an expired certificate).

Two clocks: ``NOW`` is the real time (the ``as4`` package checks validity
against its own clock), ``FIXED_NOW`` a fixed instant for tests that pass
their own clock and want the same dates on every run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from gateway.pki import certificates as certs
from gateway.pki.certificates import DevPki, KeyPair

NOW = datetime.now(UTC).replace(microsecond=0)
FIXED_NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALPHA = "POP000101"  # the sending access point
BETA = "POP000202"  # the receiving access point


@dataclass(frozen=True)
class Pki:
    now: datetime
    ca: KeyPair
    alpha: KeyPair
    beta: KeyPair
    rogue_ca: KeyPair  # same name as ``ca``, another key: untrusted
    rogue_alpha: KeyPair  # CN ALPHA, issued by the rogue CA
    expired_alpha: KeyPair

    def trust(self, *, at: datetime | None = None) -> Callable[[x509.Certificate, str], None]:
        """A peer-certificate check that trusts ``ca`` only (as AS4 readers take it)."""

        def check(cert: x509.Certificate, party: str) -> None:
            certs.check_peer_certificate(
                cert, pinned=None, cas=[self.ca[1]], expected_cn=party, now=at or self.now
            )

        return check


def make_pki(now: datetime = NOW) -> Pki:
    """A CA issued 30 days before ``now``, ALPHA and BETA a day before (for a
    year), and the rogue and expired certificates."""
    ca = certs.create_dev_ca(now=now - timedelta(days=30))
    rogue = certs.create_dev_ca(now=now - timedelta(days=30))
    return Pki(
        now=now,
        ca=ca,
        alpha=certs.issue_ap_certificate(ca, ALPHA, now=now - timedelta(days=1), days=365),
        beta=certs.issue_ap_certificate(ca, BETA, now=now - timedelta(days=1), days=365),
        rogue_ca=rogue,
        rogue_alpha=certs.issue_ap_certificate(rogue, ALPHA, now=now - timedelta(days=1), days=365),
        expired_alpha=certs.issue_ap_certificate(ca, ALPHA, now=now - timedelta(days=20), days=10),
    )


def peer_certificate(config: Path, name: str, provider_id: str) -> tuple[KeyPair, Path]:
    """A peer access point whose certificate the dev CA of the network at
    ``config`` (its gateway.toml) issued, valid since yesterday; its PEM
    written to ``peers/<name>.pem`` beside the gateway.toml."""
    ca_dir = config.parent / "certs"
    ca = certs.load_key_pair((ca_dir / "ca.key").read_bytes(), (ca_dir / "ca.pem").read_bytes())
    key, cert = certs.issue_ap_certificate(
        ca, provider_id, now=datetime.now(UTC) - timedelta(days=1), days=30
    )
    pem = config.parent / "peers" / f"{name}.pem"
    pem.parent.mkdir(exist_ok=True)
    pem.write_bytes(certs.certificate_pem(cert))
    return (key, cert), pem


def write_pki(directory: Path, ca: KeyPair, pair: KeyPair) -> DevPki:
    """The files ``gateway certs`` would write, for a CA and a key pair a test
    made itself (``write_dev_pki`` issues its own)."""
    directory.mkdir(parents=True)
    pki = DevPki(
        directory / "ca.pem", directory / "ca.key", directory / "ap.key", directory / "ap.pem"
    )
    pki.ca_certificate.write_bytes(certs.certificate_pem(ca[1]))
    pki.key.write_bytes(certs.key_pem(pair[0]))
    pki.certificate.write_bytes(certs.certificate_pem(pair[1]))
    return pki


def server_certificate(ca: KeyPair, host: str = "127.0.0.1", *, now: datetime = NOW) -> KeyPair:
    """A TLS server certificate for ``host`` (an IP address or a DNS name, in
    its subjectAltName as clients check it), issued by ``ca``, valid since
    yesterday for 30 days."""
    key = certs.generate_key()
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca[1].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca[0], hashes.SHA256())
    )
    return key, cert
