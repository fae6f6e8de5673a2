"""``gateway init``: a complete, commented configuration for a new network,
with development certificates, a sender token and a sample invoice.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from gateway.cli.common import is_wildcard
from gateway.config.settings import hash_token
from gateway.errors import InputError
from gateway.model import DocumentKind, ParticipantId
from gateway.pki.certificates import write_dev_pki
from gateway.samples import sample_document

TOKEN_FILE = "sender.token"  # noqa: S105 - a file name, not a secret
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 - the bearer token of POST /admin/reload


def gln(prefix: str) -> str:
    """A 13-digit GLN with its GS1 check digit (for demo participant ids)."""
    body = prefix.ljust(12, "0")[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Scaffold:
    config: Path
    token: str
    sample: Path
    participants: tuple[ParticipantId, ...]


def provider_id_for(name: str) -> str:
    letters = "".join(c for c in name.upper() if c.isalnum())[:8] or "GW"
    return f"P{letters}"


def init_network(
    directory: Path,
    *,
    name: str,
    port: int,
    participants: list[ParticipantId],
    now: datetime,
    host: str = "127.0.0.1",
    provider_id: str | None = None,
    ca_dir: Path | None = None,
    store: str | None = None,
    public_url: str | None = None,
) -> Scaffold:
    base_url = public_base_url(host, port, public_url)  # before anything is written
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "gateway.toml"
    if config.exists():
        raise FileExistsError(f"{config} already exists; remove it or choose another directory")
    ap_id = provider_id or provider_id_for(name)
    write_dev_pki(directory / "certs", ap_id, now=now, ca_dir=ca_dir)
    if not participants:
        seed = str(int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10**6).rjust(6, "0")
        participants = [
            ParticipantId("0088", gln("57" + seed + "1")),
            ParticipantId("0088", gln("57" + seed + "2")),
        ]
    token = _secret(directory / TOKEN_FILE)
    admin = _secret(directory / ADMIN_TOKEN_FILE)
    config.write_text(
        _render(name, ap_id, base_url, host, port, participants, hash_token(token), store)
        + _admin_table(hash_token(admin)),
        encoding="utf-8",
    )
    buyer = participants[1] if len(participants) > 1 else participants[0]
    sample = directory / "sample-invoice.xml"
    sample.write_bytes(sample_document(DocumentKind.INVOICE, seller=participants[0], buyer=buyer))
    return Scaffold(config, token, sample, tuple(participants))


def public_base_url(host: str, port: int, public_url: str | None) -> str:
    """The ``base_url`` peers and senders are given (``gateway info`` hands it out).

    ``public_url`` when given; else the listen address, except a wildcard one,
    which would send peers to 0.0.0.0: then the caller must say the public URL.
    """
    if public_url is not None:
        hostname = _http_host(public_url)
        if hostname is None:
            raise InputError(f"--public-url must be an http(s) URL; got {public_url!r}")
        if is_wildcard(hostname):
            raise InputError(
                f"--public-url {public_url}: {hostname} is not an address peers can reach"
            )
        return public_url.rstrip("/")
    if is_wildcard(host):
        raise InputError(
            f"--host {host} listens on every address, but peers and senders cannot connect "
            f"to {host}: give --public-url, the URL they use (e.g. https://ap.example.com, "
            f"or http://127.0.0.1:{port} to try it on this machine)"
        )
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    return f"http://{shown}:{port}"


def _http_host(url: str) -> str | None:
    """The host of an http(s) URL fit to write into gateway.toml as is (no quote,
    backslash or space), else None."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return None
    if parts.scheme not in ("http", "https") or set('"\\ ') & set(url):
        return None
    return hostname or None


def _secret(path: Path) -> str:
    """A new bearer token, written to ``path`` readable by its owner only."""
    token = secrets.token_urlsafe(32)
    path.write_text(token + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return token


def _admin_table(token_sha256: str) -> str:
    return f"""
[admin]
# The admin token (POST /admin/reload) is in admin.token; only its SHA-256 is kept here.
token_sha256 = "{token_sha256}"
"""


def _render(
    name: str,
    ap_id: str,
    base_url: str,
    host: str,
    port: int,
    participants: list[ParticipantId],
    token_sha256: str,
    store: str | None,
) -> str:
    parts = []
    for i, pid in enumerate(participants, 1):
        parts.append(
            f"""[[participants]]
id = "{pid}"
name = "{name} participant {i}"
email = "billing{i}@{name.lower()}.example"
reception = "network"     # network | api | email | portal | paper, or a list: ["api", "paper"]
country = "FR"
address = ["{i} rue de l'Exemple", "75001 Paris"]
"""
        )
    store_line = (
        f'url = "{store}"' if store else 'path = "store.db"          # embedded SQLite file'
    )
    return f"""# gateway.toml for network {name!r}, written by `gateway init`.
# Every key is documented in docs/configuration.md.
# The certificates in certs/ are DEVELOPMENT certificates: never use them in production.

[network]
name = "{name}"
provider_id = "{ap_id}"            # our access point id: the CN of certs/ap.pem
base_url = "{base_url}"   # how peers and senders reach us
listen_host = "{host}"   # the address we listen on (0.0.0.0: every address)
listen_port = {port}
key = "certs/ap.key"
certificate = "certs/ap.pem"
ca_certificates = ["certs/ca.pem"]  # CAs we trust for peers' certificates
# development accepts peers on plain http and loopback or private addresses;
# production (the default when absent) refuses them: set it with real certificates.
environment = "development"

{chr(10).join(parts)}
[[senders]]
name = "{name}-erp"
# The token itself is in sender.token; only its SHA-256 is kept here.
token_sha256 = "{token_sha256}"
participants = ["{participants[0]}"]   # sellers this token may send for

# A peer network, once you have its `gateway info --json`:
# [[peers]]
# name = "beta"
# provider_id = "PBETA"
# endpoint = "http://127.0.0.1:8082/as4"
# certificate = "peers/beta.pem"
# participants = ["0088:..."]
# [peers.agreement]
# direction = "both"

# Where network delivery is legally required: paper is refused for these flows.
[[mandates]]
country = "FR"
scope = "domestic-b2b"
from = 2026-09-01
reference = "France: e-invoicing reception mandate"

[[mandates]]
country = "BE"
scope = "domestic-b2b"
from = 2026-01-01
reference = "Belgium: B2B e-invoicing mandate"

[store]
{store_line}

[delivery]
initial_backoff_seconds = 2
max_backoff_seconds = 300
give_up_after_seconds = 86400
lease_seconds = 60
timeout_seconds = 30
concurrency = 8

[channels]
inbox_dir = "inbox"
print_dir = "print"

[validation]
processes = "auto"   # validate beside the serving process, one per spare core (0: in it)

[logging]
format = "auto"   # auto: readable on a terminal, JSON lines otherwise
level = "info"
"""
