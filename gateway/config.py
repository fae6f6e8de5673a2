"""gateway.toml -> frozen Settings.

This module is the only reader of the configuration file. Every problem is
reported as a ConfigError naming the file, the key path (``peers[1].endpoint``)
and what is wrong, so an admin never sees a traceback for a typo.
Relative paths in the file are relative to the file's own directory.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gateway.agreements import DIRECTIONS, PAYERS, Agreement, Fees, Mandate
from gateway.config_reader import Reader
from gateway.errors import ConfigError
from gateway.model import ParticipantId

RECEPTION_CHOICES = ("network", "portal", "paper")
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

    @property
    def exchange_url(self) -> str:
        return self.base_url.rstrip("/") + "/as4"


@dataclass(frozen=True)
class Participant:
    id: ParticipantId
    name: str
    email: str = ""
    reception: str = "network"  # network | portal | paper
    country: str = ""
    address: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class StoreSettings:
    url: str  # sqlite:///abs/path.db (sqlite:// + absolute path) or redis://host:port/db
    prefix: str = "gw"  # Redis key prefix, so several networks can share one server
    sync: str = "full"  # SQLite synchronous mode: full | normal


@dataclass(frozen=True)
class DeliverySettings:
    initial_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 300.0
    give_up_after_seconds: float = 86400.0
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    timeout_seconds: float = 30.0
    concurrency: int = 8


@dataclass(frozen=True)
class LimitSettings:
    max_document_bytes: int = 10 * 1024 * 1024
    max_depth: int = 256
    max_elements: int = 1_000_000


@dataclass(frozen=True)
class ChannelSettings:
    inbox_dir: Path  # portal downloads and network inboxes of our participants
    print_dir: Path  # print batches


@dataclass(frozen=True)
class ValidationSettings:
    schema_dir: Path | None = None  # own copy of the OASIS UBL 2.1 xsd folder (hash-checked)
    official_rules_dir: Path | None = None  # the official Schematron XSLTs, for --engine
    processes: int = 0  # validate in this many extra processes (0: in the serving process)


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


def load(path: str | Path) -> Settings:
    """Read and check a gateway.toml. Raises ConfigError, never anything else."""
    p = Path(path).resolve()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(p), "", "file not found") from None
    except OSError as exc:
        raise ConfigError(str(p), "", f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(p), "", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), "", f"not valid TOML: {exc}") from None
    return _settings(Reader(p), data)


def _settings(r: Reader, data: dict[str, Any]) -> Settings:
    r.unknown_keys(
        data,
        "",
        {
            "network",
            "participants",
            "senders",
            "peers",
            "store",
            "delivery",
            "limits",
            "channels",
            "logging",
            "mandates",
            "admin",
            "validation",
        },
    )
    network = _network(r, r.table(data, "network", "", required=True))
    participants = _participants(r, r.array_of_tables(data, "participants"))
    senders = _senders(r, r.array_of_tables(data, "senders"), participants)
    peers = _peers(r, r.array_of_tables(data, "peers"), participants, network)
    return Settings(
        path=r.path,
        network=network,
        participants=participants,
        senders=senders,
        peers=peers,
        store=_store(r, r.table(data, "store", "", required=False)),
        delivery=_delivery(r, r.table(data, "delivery", "", required=False)),
        limits=_limits(r, r.table(data, "limits", "", required=False)),
        channels=_channels(r, r.table(data, "channels", "", required=False)),
        logging=_logging(r, r.table(data, "logging", "", required=False)),
        mandates=_mandates(r, r.array_of_tables(data, "mandates")),
        validation=_validation(r, r.table(data, "validation", "", required=False)),
        admin_token_sha256=_admin(r, r.table(data, "admin", "", required=False)),
    )


def _validation(r: Reader, t: dict[str, Any]) -> ValidationSettings:
    w = "validation"
    r.unknown_keys(t, w, {"schema_dir", "official_rules_dir", "processes"})

    def directory(key: str) -> Path | None:
        if key not in t:
            return None
        p = Path(r.get(t, key, w, str))
        p = p if p.is_absolute() else r.base / p
        if not p.is_dir():
            raise r.fail(f"{w}.{key}", f"directory {str(p)!r} does not exist")
        return p

    processes = r.get(t, "processes", w, int, 0)
    if processes < 0:
        raise r.fail(f"{w}.processes", "must be 0 (validate in the serving process) or more")
    return ValidationSettings(
        schema_dir=directory("schema_dir"),
        official_rules_dir=directory("official_rules_dir"),
        processes=processes,
    )


def _admin(r: Reader, t: dict[str, Any]) -> str:
    r.unknown_keys(t, "admin", {"token_sha256"})
    digest = r.get(t, "token_sha256", "admin", str, "").lower()
    if digest and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        raise r.fail("admin.token_sha256", "must be 64 hexadecimal characters")
    return digest


def _url(r: Reader, value: str, key: str) -> str:
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise r.fail(key, f"must be an http(s) URL; got {value!r}")
    return value


def _network(r: Reader, t: dict[str, Any]) -> NetworkSettings:
    w = "network"
    r.unknown_keys(
        t,
        w,
        {
            "name",
            "provider_id",
            "base_url",
            "listen_host",
            "listen_port",
            "key",
            "certificate",
            "ca_certificates",
            "workers",
        },
    )
    port = r.get(t, "listen_port", w, int, 8080)
    if not 0 < port < 65536:
        raise r.fail(f"{w}.listen_port", f"must be a TCP port (1-65535); got {port}")
    cas = tuple(
        (Path(c) if Path(c).is_absolute() else r.base / c)
        for c in r.strings(t, "ca_certificates", w)
    )
    for i, c in enumerate(cas):
        if not c.is_file():
            raise r.fail(f"{w}.ca_certificates[{i}]", f"file {str(c)!r} does not exist")
    name = r.get(t, "name", w, str)
    if not name.strip():
        raise r.fail(f"{w}.name", "must not be empty")
    return NetworkSettings(
        name=name,
        provider_id=r.get(t, "provider_id", w, str),
        base_url=_url(r, r.get(t, "base_url", w, str), f"{w}.base_url"),
        listen_host=r.get(t, "listen_host", w, str, "127.0.0.1"),
        listen_port=port,
        key=r.file(t, "key", w, must_exist=True),
        certificate=r.file(t, "certificate", w, must_exist=True),
        ca_certificates=cas,
        workers=r.positive(t, "workers", w, int, 1),
    )


def _participants(r: Reader, rows: list[dict[str, Any]]) -> tuple[Participant, ...]:
    seen: set[ParticipantId] = set()
    out = []
    for i, t in enumerate(rows):
        w = f"participants[{i}]"
        r.unknown_keys(t, w, {"id", "name", "email", "reception", "country", "address"})
        pid = r.participant_id(r.get(t, "id", w, str), f"{w}.id")
        if pid in seen:
            raise r.fail(f"{w}.id", f"participant {pid} is listed twice")
        seen.add(pid)
        reception = r.get(t, "reception", w, str, "network")
        if reception == "email":
            raise r.fail(
                f"{w}.reception",
                "e-mail delivery is not available in this version; "
                f"use one of {', '.join(RECEPTION_CHOICES)}",
            )
        if reception not in RECEPTION_CHOICES:
            raise r.fail(
                f"{w}.reception",
                f"must be one of {', '.join(RECEPTION_CHOICES)}; got {reception!r}",
            )
        out.append(
            Participant(
                id=pid,
                name=r.get(t, "name", w, str),
                email=r.get(t, "email", w, str, ""),
                reception=reception,
                country=r.get(t, "country", w, str, ""),
                address=tuple(r.strings(t, "address", w)),
            )
        )
    return tuple(out)


def _senders(
    r: Reader, rows: list[dict[str, Any]], participants: tuple[Participant, ...]
) -> tuple[Sender, ...]:
    ours = {p.id for p in participants}
    out = []
    names: set[str] = set()
    for i, t in enumerate(rows):
        w = f"senders[{i}]"
        r.unknown_keys(t, w, {"name", "token", "token_sha256", "participants"})
        name = r.get(t, "name", w, str)
        if name in names:
            raise r.fail(f"{w}.name", f"sender {name!r} is listed twice")
        names.add(name)
        if ("token" in t) == ("token_sha256" in t):
            raise r.fail(w, "give exactly one of token or token_sha256")
        if "token" in t:
            token = r.get(t, "token", w, str)
            if len(token) < 16:
                raise r.fail(f"{w}.token", "must be at least 16 characters long")
            digest = hash_token(token)
        else:
            digest = r.get(t, "token_sha256", w, str).lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise r.fail(f"{w}.token_sha256", "must be 64 hexadecimal characters")
        pids = set()
        for j, raw in enumerate(r.strings(t, "participants", w)):
            pid = r.participant_id(raw, f"{w}.participants[{j}]")
            if pid not in ours:
                raise r.fail(
                    f"{w}.participants[{j}]", f"{pid} is not one of this network's participants"
                )
            pids.add(pid)
        out.append(Sender(name=name, token_sha256=digest, participants=frozenset(pids)))
    return tuple(out)


def _peers(
    r: Reader,
    rows: list[dict[str, Any]],
    participants: tuple[Participant, ...],
    network: NetworkSettings,
) -> tuple[Peer, ...]:
    ours = {p.id for p in participants}
    claimed: dict[ParticipantId, str] = {}
    out: list[Peer] = []
    for i, t in enumerate(rows):
        w = f"peers[{i}]"
        r.unknown_keys(
            t,
            w,
            {
                "name",
                "provider_id",
                "endpoint",
                "smp_url",
                "certificate",
                "participants",
                "agreement",
            },
        )
        name = r.get(t, "name", w, str)
        if name == network.name or any(p.name == name for p in out):
            raise r.fail(f"{w}.name", f"network name {name!r} is used twice")
        cert = r.file(t, "certificate", w, must_exist=True) if "certificate" in t else None
        pids = []
        for j, raw in enumerate(r.strings(t, "participants", w)):
            key = f"{w}.participants[{j}]"
            pid = r.participant_id(raw, key)
            if pid in ours:
                raise r.fail(key, f"{pid} is one of this network's own participants")
            if pid in claimed:
                raise r.fail(key, f"{pid} is already listed for peer {claimed[pid]!r}")
            claimed[pid] = name
            pids.append(pid)
        out.append(
            Peer(
                name=name,
                provider_id=r.get(t, "provider_id", w, str),
                endpoint=_url(r, r.get(t, "endpoint", w, str), f"{w}.endpoint"),
                certificate=cert,
                participants=tuple(pids),
                agreement=_agreement(
                    r,
                    r.table(t, "agreement", w, required=False),
                    f"{w}.agreement",
                    f"{network.name}-{name}",
                ),
                smp_url=_url(r, r.get(t, "smp_url", w, str), f"{w}.smp_url")
                if "smp_url" in t
                else "",
            )
        )
    return tuple(out)


def _agreement(r: Reader, t: dict[str, Any], w: str, default_id: str) -> Agreement:
    r.unknown_keys(
        t,
        w,
        {
            "id",
            "direction",
            "document_types",
            "valid_from",
            "valid_until",
            "max_document_bytes",
            "require_document_signature",
            "delivery_deadline_hours",
            "fees",
        },
    )
    a = Agreement(
        id=r.get(t, "id", w, str, default_id),
        direction=r.choice(t, "direction", w, DIRECTIONS, "both"),
        document_types=tuple(r.strings(t, "document_types", w)),
        valid_from=r.day(t, "valid_from", w),
        valid_until=r.day(t, "valid_until", w),
        max_document_bytes=r.get(t, "max_document_bytes", w, int, 0),
        require_document_signature=r.get(t, "require_document_signature", w, bool, False),
        delivery_deadline_hours=r.get(t, "delivery_deadline_hours", w, float, 0.0),
        fees=_fees(r, r.table(t, "fees", w, required=False), f"{w}.fees"),
    )
    if a.valid_from and a.valid_until and a.valid_until < a.valid_from:
        raise r.fail(f"{w}.valid_until", "is before valid_from")
    if a.max_document_bytes < 0:
        raise r.fail(f"{w}.max_document_bytes", "must be 0 (no own limit) or more")
    if a.delivery_deadline_hours < 0:
        raise r.fail(f"{w}.delivery_deadline_hours", "must be 0 (the network default) or more")
    return a


def _fees(r: Reader, t: dict[str, Any], w: str) -> Fees:
    r.unknown_keys(t, w, {"per_document", "payer", "monthly_free", "monthly_cap", "currency"})
    currency = r.get(t, "currency", w, str, "EUR")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise r.fail(f"{w}.currency", f"must be an ISO 4217 code such as EUR; got {currency!r}")
    free = r.get(t, "monthly_free", w, int, 0)
    if free < 0:
        raise r.fail(f"{w}.monthly_free", "must be 0 or more")
    return Fees(
        per_document=r.amount(t, "per_document", w, "0"),
        payer=r.choice(t, "payer", w, PAYERS, "sender"),
        monthly_free=free,
        monthly_cap=r.amount(t, "monthly_cap", w, "0"),
        currency=currency,
    )


def _mandates(r: Reader, rows: list[dict[str, Any]]) -> tuple[Mandate, ...]:
    out = []
    for i, t in enumerate(rows):
        w = f"mandates[{i}]"
        r.unknown_keys(t, w, {"country", "scope", "from", "reference"})
        country = r.get(t, "country", w, str)
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise r.fail(f"{w}.country", f"must be an ISO 3166 code such as FR; got {country!r}")
        start = r.day(t, "from", w)
        if start is None:
            raise r.fail(f"{w}.from", "missing required key (the date the mandate starts)")
        out.append(
            Mandate(
                country=country,
                scope=r.choice(t, "scope", w, ("domestic-b2b",), "domestic-b2b"),
                start=start,
                reference=r.get(t, "reference", w, str, ""),
            )
        )
    return tuple(out)


def _store(r: Reader, t: dict[str, Any]) -> StoreSettings:
    w = "store"
    r.unknown_keys(t, w, {"path", "url", "prefix", "sync"})
    if "path" in t and "url" in t:
        raise r.fail(w, "give either path (embedded SQLite) or url (redis://...), not both")
    if "url" in t:
        url = r.get(t, "url", w, str)
        if not url.startswith(("redis://", "rediss://", "unix://", "sqlite:///")):
            raise r.fail(
                f"{w}.url",
                f"must start with redis://, rediss://, unix:// or sqlite:///; got {url!r}",
            )
    else:
        rel = Path(r.get(t, "path", w, str, "store.db"))
        url = "sqlite://" + str(rel if rel.is_absolute() else (r.base / rel))
    prefix = r.get(t, "prefix", w, str, "gw")
    if not prefix or ":" in prefix:
        raise r.fail(f"{w}.prefix", "must be a non-empty string without ':'")
    return StoreSettings(
        url=url, prefix=prefix, sync=r.choice(t, "sync", w, ("full", "normal"), "full")
    )


def _delivery(r: Reader, t: dict[str, Any]) -> DeliverySettings:
    w = "delivery"
    d = DeliverySettings()
    r.unknown_keys(t, w, set(DeliverySettings.__dataclass_fields__))
    floats: dict[str, float] = {
        k: r.positive(t, k, w, float, getattr(d, k))
        for k in (
            "initial_backoff_seconds",
            "max_backoff_seconds",
            "give_up_after_seconds",
            "lease_seconds",
            "poll_seconds",
            "timeout_seconds",
        )
    }
    if floats["max_backoff_seconds"] < floats["initial_backoff_seconds"]:
        raise r.fail(f"{w}.max_backoff_seconds", "is smaller than initial_backoff_seconds")
    if floats["lease_seconds"] <= floats["timeout_seconds"]:
        # A lease shorter than one attempt would let a second worker start
        # the same delivery while the first is still waiting for its answer.
        raise r.fail(f"{w}.lease_seconds", "must be longer than timeout_seconds")
    return DeliverySettings(
        concurrency=r.positive(t, "concurrency", w, int, d.concurrency), **floats
    )


def _limits(r: Reader, t: dict[str, Any]) -> LimitSettings:
    w = "limits"
    d = LimitSettings()
    r.unknown_keys(t, w, set(LimitSettings.__dataclass_fields__))
    limits = LimitSettings(
        **{k: r.positive(t, k, w, int, getattr(d, k)) for k in LimitSettings.__dataclass_fields__}
    )
    if limits.max_depth > MAX_XML_DEPTH:
        # libxml2 refuses deeper documents anyway unless huge_tree is on, which
        # we never allow: a larger value would promise what is not done.
        raise r.fail(f"{w}.max_depth", f"must be at most {MAX_XML_DEPTH}")
    return limits


def _channels(r: Reader, t: dict[str, Any]) -> ChannelSettings:
    w = "channels"
    r.unknown_keys(t, w, {"inbox_dir", "print_dir"})

    def directory(key: str, default: str) -> Path:
        p = Path(r.get(t, key, w, str, default))
        return p if p.is_absolute() else r.base / p

    return ChannelSettings(
        inbox_dir=directory("inbox_dir", "inbox"), print_dir=directory("print_dir", "print")
    )


def _logging(r: Reader, t: dict[str, Any]) -> LogSettings:
    w = "logging"
    r.unknown_keys(t, w, {"format", "level"})
    return LogSettings(
        format=r.choice(t, "format", w, ("auto", "json", "console"), "auto"),
        level=r.choice(t, "level", w, ("debug", "info", "warning", "error"), "info"),
    )


Loader = Callable[[str | Path], Settings]
