"""The settings of a gateway: what gateway.toml says, as frozen values.

``load`` reads a file (``config_loader`` does the reading and checking,
``config_terms`` the agreements and mandates); every problem is a
ConfigError naming the file, the key path and what is wrong.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config.email import EmailSettings
from gateway.config.print_house import PrintHouseSettings
from gateway.config.webhooks import WebhookSettings
from gateway.model import Agreement, Mandate, ParticipantId

ENVIRONMENTS = ("production", "development")
MAX_XML_DEPTH = 256


@dataclass(frozen=True)
class NetworkSettings:
    name: str
    provider_id: str  # our access point id; the CN of our certificate
    base_url: str  # public base URL, e.g. https://ap.example.net
    listen_host: str
    listen_port: int
    key: Path
    certificate: Path
    ca_certificates: tuple[Path, ...]  # trust anchors for peers' certificates
    workers: int = 1  # processes serving the port (one per core is a good start)
    # Peers' certificates against their CRL/OCSP: off | soft (an unreachable
    # responder is tolerated) | hard (it is not). See transport/revocation_client.py.
    revocation: str = "soft"
    revocation_timeout_seconds: float = 5.0
    # production refuses peers on plain http or non-public addresses (config_safety)
    environment: str = "production"

    @property
    def exchange_url(self) -> str:
        return self.base_url.rstrip("/") + "/as4"


@dataclass(frozen=True)
class Participant:
    id: ParticipantId
    name: str
    email: str = ""
    # Reception modes (model.RECEPTIONS) in the order they are tried.
    reception: tuple[str, ...] = ("network",)
    country: str = ""
    address: tuple[str, ...] = ()
    # Accounting export: each delivered document also lands here as
    # <id>.xml, a line of invoices.jsonl and its lines in invoice-lines.csv.
    export_dir: Path | None = None


@dataclass(frozen=True)
class Sender:
    """An enterprise allowed to post documents through the API."""

    name: str
    token_sha256: str  # hex SHA-256 of the bearer token; the token itself is not kept
    participants: frozenset[ParticipantId]  # sellers it may send for; empty: any


@dataclass(frozen=True)
class Peer:
    name: str
    provider_id: str
    endpoint: str  # the peer's exchange (AS4) endpoint URL
    certificate: Path | None  # pinned certificate of the peer's access point
    participants: tuple[ParticipantId, ...]
    agreement: Agreement = field(default_factory=Agreement)
    smp_url: str = ""  # base URL of the peer's SMP; default: its endpoint's origin + /smp
    allow_insecure: bool = False  # accept a plain-http or non-public endpoint in production


@dataclass(frozen=True)
class StoreSettings:
    url: str  # sqlite:///abs/path.db (sqlite:// + absolute path) or redis://host:port/db
    prefix: str = "gw"  # Redis key prefix, so several networks can share one server
    sync: str = "full"  # SQLite synchronous mode: full | normal
    # A store that has not answered in this long is an error (503 naming the
    # document id to look up), not a request hanging until the client gives up.
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class DeliverySettings:
    initial_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 300.0
    give_up_after_seconds: float = 86400.0
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    timeout_seconds: float = 30.0
    concurrency: int = 8
    # One peer's share of the slots, and its circuit breaker (gateway/core/breaker.py).
    per_peer_concurrency: int = 4
    breaker_failures: int = 5
    breaker_open_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class LimitSettings:
    max_document_bytes: int = 10 * 1024 * 1024
    max_depth: int = 256
    max_elements: int = 1_000_000
    # Failed authentications per client address, and per token prefix, in
    # any minute before 429 (counted in each serving process).
    auth_failures_per_minute: int = 10
    # UBL elements carry at most a handful of attributes; namespace
    # declarations count toward max_attributes only.
    max_attributes_per_element: int = 64
    max_attributes: int = 250_000


@dataclass(frozen=True)
class HttpSettings:
    """Bounds on what clients of POST /as4 and POST /api/v1/documents may hold."""

    inflight_bytes: int = 64 * 1024 * 1024  # request bodies admitted at once, all requests
    inflight_wait_seconds: float = 2.0  # wait for room in that budget, then 503 + Retry-After
    spool_threshold_bytes: int = 1024 * 1024  # a body past this waits in a temp file
    spool_dir: Path | None = None  # where; None: the system's temp dir
    header_timeout_seconds: float = 10.0  # a request's headers must arrive within this
    body_timeout_seconds: float = 120.0  # and its body within this, once the headers are in
    max_connections_per_address: int = 100  # open connections per client IP, per process


@dataclass(frozen=True)
class ChannelSettings:
    inbox_dir: Path  # portal downloads and network inboxes of our participants
    print_dir: Path  # print batches
    email: EmailSettings | None = None  # [channels.email]; None: no e-mail channel


@dataclass(frozen=True)
class ValidationSettings:
    schema_dir: Path | None = None  # own copy of the OASIS UBL 2.1 xsd folder (hash-checked)
    official_rules_dir: Path | None = None  # the official Schematron XSLTs, for --engine
    # Validate in this many extra processes (0: in the serving process, which
    # then stops answering while it validates); None ("auto"): see pool_size.
    processes: int | None = None

    def pool_size(self) -> int:
        """The validation processes to use: "auto" is one per spare core, at
        least one, so that validating never holds up the event loop."""
        if self.processes is not None:
            return self.processes
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return max(1, (cores or os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class LogSettings:
    format: str = "auto"  # auto | json | console
    level: str = "info"


@dataclass(frozen=True)
class Settings:
    path: Path
    network: NetworkSettings
    participants: tuple[Participant, ...]
    senders: tuple[Sender, ...]
    peers: tuple[Peer, ...]
    store: StoreSettings
    delivery: DeliverySettings
    limits: LimitSettings
    channels: ChannelSettings
    logging: LogSettings
    mandates: tuple[Mandate, ...] = ()
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    admin_token_sha256: str = ""  # bearer token (hashed) of the admin endpoints; "": disabled
    warnings: tuple[str, ...] = ()  # "key: problem" lines accepted but worth an admin's look
    http: HttpSettings = field(default_factory=HttpSettings)
    print_house: PrintHouseSettings = field(default_factory=PrintHouseSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)

    def participant(self, pid: ParticipantId) -> Participant | None:
        return self._participants_by_id.get(pid)

    @functools.cached_property
    def _participants_by_id(self) -> dict[ParticipantId, Participant]:
        # Built once per loaded file: a look-up must not scan a long list.
        return {p.id: p for p in self.participants}

    def is_admin_token(self, token: str) -> bool:
        return bool(self.admin_token_sha256) and _consteq(
            self.admin_token_sha256, hash_token(token)
        )

    def sender_for_token(self, token: str) -> Sender | None:
        digest = hash_token(token)
        for s in self.senders:
            if _consteq(s.token_sha256, digest):
                return s
        return None

    def peer_named(self, name: str) -> Peer | None:
        return next((p for p in self.peers if p.name == name), None)

    def peer_by_provider(self, provider_id: str) -> Peer | None:
        return next((p for p in self.peers if p.provider_id == provider_id), None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _consteq(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


# --- loading ---------------------------------------------------------------
