"""Checks that keep a production configuration from trusting the wrong thing.

A peer's endpoint and SMP URL are where invoices (and the look-ups that
decide where invoices go) are sent. In production they must use TLS and a
public address: a private, link-local or loopback address in a peer's
stanza is either a typo, a leftover from testing, or a way to make the
gateway reach into its own network (169.254.169.254 is a cloud metadata
service). Only IP literals and ``localhost`` are judged here: a host name is
not resolved when the file is read (DNS can change between the check and the
connection anyway), so the admin's choice of name is trusted.

A pinned peer certificate must be exactly that: PEM certificate blocks in
ASCII, nothing else; a private key or a CSR pasted in its place is refused.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlparse

from cryptography import x509

from gateway.config.reader import Reader
from gateway.config.settings import NetworkSettings, Peer

_PEM_BEGIN = re.compile(r"-----BEGIN ([^\r\n-]*)-----")
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def endpoint_risks(url: str) -> list[str]:
    """Why ``url`` is unfit for a production peer; empty when it is fit."""
    u = urlparse(url)
    risks = ["plain http (no TLS)"] if u.scheme == "http" else []
    host = (u.hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        risks.append(f"{host} is a loopback name")
        return risks
    address = _ip_literal(host)
    kind = _address_kind(address) if address is not None else None
    if kind:
        risks.append(f"{host} is {kind}")
    return risks


def _ip_literal(host: str) -> _Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            # The resolver also reads 127.1, 0x7f000001 and 2130706433 as
            # addresses; inet_aton parses them without asking DNS.
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _address_kind(a: _Address) -> str | None:
    for test, kind in (
        (a.is_loopback, "a loopback address"),
        (a.is_link_local, "a link-local address"),
        (a.is_unspecified, "an unspecified address"),
        (a.is_multicast, "a multicast address"),
        (a.is_private, "a private address"),
        (not a.is_global, "not a public address"),
    ):
        if test:
            return kind
    return None


def check_peers(r: Reader, peers: tuple[Peer, ...], network: NetworkSettings) -> tuple[str, ...]:
    """Refuse unsafe peers (ConfigError); return warnings for those allowed anyway."""
    warnings: list[str] = []
    for i, peer in enumerate(peers):
        w = f"peers[{i}]"
        if peer.certificate is not None:
            try:
                problem = certificate_problem(peer.certificate.read_bytes())
            except OSError as exc:
                problem = f"cannot read: {exc.strerror}"
            if problem:
                raise r.fail(f"{w}.certificate", f"{str(peer.certificate)!r}: {problem}")
        if network.environment == "development":
            continue
        for key, url in (("endpoint", peer.endpoint), ("smp_url", peer.smp_url)):
            risks = endpoint_risks(url) if url else []
            if not risks:
                continue
            why = f"{url!r}: {', '.join(risks)}"
            if peer.allow_insecure:
                warnings.append(f"{w}.{key}: {why}; accepted because {w}.allow_insecure = true")
                continue
            raise r.fail(
                f"{w}.{key}",
                f"{why}; refused in production: use https and a public address, or set "
                f'{w}.allow_insecure = true (or network.environment = "development")',
            )
    return tuple(warnings)


def certificate_problem(pem: bytes | str) -> str | None:
    """None when ``pem`` is one or more PEM certificates and nothing else."""
    if isinstance(pem, str):
        if not pem.isascii():
            at = next(i for i, c in enumerate(pem) if not c.isascii())
            return f"not a PEM certificate: non-ASCII character {pem[at]!r} at offset {at}"
        data = pem.encode("ascii")
    else:
        if not pem.isascii():
            at = next(i for i, b in enumerate(pem) if b > 127)
            return f"not a PEM certificate: non-ASCII byte at offset {at}"
        data = pem
    labels = _PEM_BEGIN.findall(data.decode("ascii"))
    if not labels:
        return "not a PEM certificate: no '-----BEGIN CERTIFICATE-----' line"
    other = next((label for label in labels if label != "CERTIFICATE"), None)
    if other is not None:
        return f"not a PEM certificate: it holds a {other!r} block"
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        return f"not a readable PEM certificate ({' '.join(str(exc).split())})"
    return None
