"""Reading our key and certificate, the CAs we trust and peers' pinned
certificates from the files the configuration names. Shared by the AS4 and
SMP adapters; errors name the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cryptography import x509

from gateway.config.settings import NetworkSettings, Peer
from gateway.errors import SecurityError
from gateway.pki.certificates import KeyPair, load_certificates, load_key_pair


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SecurityError(f"{path}: cannot read ({exc.strerror})") from None


def load_identity(network: NetworkSettings) -> KeyPair:
    """Our key and certificate, checked to belong together."""
    return load_key_pair(
        _read(network.key),
        _read(network.certificate),
        key_source=str(network.key),
        cert_source=str(network.certificate),
    )


def load_trust_anchors(paths: Iterable[Path]) -> list[x509.Certificate]:
    return [cert for p in paths for cert in load_certificates(_read(p), source=str(p))]


class PinnedCertificates:
    """Peers' pinned certificates, each file read once."""

    def __init__(self) -> None:
        self._cache: dict[Path, x509.Certificate] = {}

    def get(self, peer: Peer) -> x509.Certificate | None:
        if peer.certificate is None:
            return None
        cert = self._cache.get(peer.certificate)
        if cert is None:
            cert = load_certificates(_read(peer.certificate), source=str(peer.certificate))[0]
            self._cache[peer.certificate] = cert
        return cert
