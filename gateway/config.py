"""gateway.toml -> frozen Settings.

This module is the only reader of the configuration file. Every problem is
reported as a ConfigError naming the file, the key path (``peers[1].endpoint``)
and what is wrong, so an admin never sees a traceback for a typo.
Relative paths in the file are relative to the file's own directory.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from gateway.errors import ConfigError
from gateway.model import InvalidIdentifier, ParticipantId

RECEPTION_CHOICES = ("network", "portal", "paper")
DIRECTIONS = ("send", "receive", "both")
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
class Agreement:
    """Interconnection terms with a peer network (the routing issue extends them)."""

    direction: str = "both"  # send | receive | both
    document_types: tuple[str, ...] = ()  # empty: every document type
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Peer:
    name: str
    provider_id: str
    endpoint: str  # the peer's exchange (AS4) endpoint URL
    certificate: Path | None  # pinned certificate of the peer's access point
    participants: tuple[ParticipantId, ...]
    agreement: Agreement = field(default_factory=Agreement)


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

    def participant(self, pid: ParticipantId) -> Participant | None:
        for p in self.participants:
            if p.id == pid:
                return p
        return None

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

T = TypeVar("T")


class _Reader:
    """Reads typed values out of the TOML tree, naming the key path on error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(str(self.path), key, problem)

    def table(
        self, data: Mapping[str, Any], key: str, where: str, *, required: bool
    ) -> dict[str, Any]:
        full = f"{where}.{key}" if where else key
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(full, "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(full, f"must be a table, not {type(value).__name__}")
        return value

    def array_of_tables(self, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        kind: type[T],
        default: T | None = None,
    ) -> T:
        full = f"{where}.{key}" if where else key
        if key not in data:
            if default is None:
                raise self.fail(full, "missing required key")
            return default
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(
                full, f"must be {_kind_name(kind)}, not {type(value).__name__} {value!r}"
            )
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> list[str]:
        full = f"{where}.{key}" if where else key
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(full, "must be an array of strings")
        return value

    def file(self, data: Mapping[str, Any], key: str, where: str, *, must_exist: bool) -> Path:
        raw = self.get(data, key, where, str)
        p = Path(raw)
        p = p if p.is_absolute() else (self.base / p)
        if must_exist and not p.is_file():
            raise self.fail(f"{where}.{key}" if where else key, f"file {str(p)!r} does not exist")
        return p

    def choice(
        self, data: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str
    ) -> str:
        value = self.get(data, key, where, str, default)
        if value not in choices:
            raise self.fail(f"{where}.{key}", f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def positive(
        self, data: Mapping[str, Any], key: str, where: str, kind: type[T], default: T
    ) -> T:
        value = self.get(data, key, where, kind, default)
        if value <= 0:  # type: ignore[operator]
            raise self.fail(f"{where}.{key}", f"must be greater than 0; got {value!r}")
        return value

    def participant_id(self, raw: str, key: str) -> ParticipantId:
        try:
            return ParticipantId.parse(raw)
        except InvalidIdentifier as exc:
            raise self.fail(key, str(exc)) from None

    def unknown_keys(self, data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for k in data:
            if k not in allowed:
                full = f"{where}.{k}" if where else k
                raise self.fail(full, f"unknown key (allowed here: {', '.join(sorted(allowed))})")


def _kind_name(kind: type[Any]) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, kind.__name__
    )


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
    return _settings(_Reader(p), data)


def _settings(r: _Reader, data: dict[str, Any]) -> Settings:
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
    )


def _url(r: _Reader, value: str, key: str) -> str:
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise r.fail(key, f"must be an http(s) URL; got {value!r}")
    return value


def _network(r: _Reader, t: dict[str, Any]) -> NetworkSettings:
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
    )


def _participants(r: _Reader, rows: list[dict[str, Any]]) -> tuple[Participant, ...]:
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
    r: _Reader, rows: list[dict[str, Any]], participants: tuple[Participant, ...]
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
    r: _Reader,
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
            t, w, {"name", "provider_id", "endpoint", "certificate", "participants", "agreement"}
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
                    r, r.table(t, "agreement", w, required=False), f"{w}.agreement"
                ),
            )
        )
    return tuple(out)


def _agreement(r: _Reader, t: dict[str, Any], w: str) -> Agreement:
    r.unknown_keys(t, w, {"direction", "document_types", "valid_from", "valid_until"})

    def day(key: str) -> date | None:
        if key not in t:
            return None
        v = t[key]
        if not isinstance(v, date):
            raise r.fail(f"{w}.{key}", f"must be a TOML date such as 2026-01-01; got {v!r}")
        return v

    a = Agreement(
        direction=r.choice(t, "direction", w, DIRECTIONS, "both"),
        document_types=tuple(r.strings(t, "document_types", w)),
        valid_from=day("valid_from"),
        valid_until=day("valid_until"),
    )
    if a.valid_from and a.valid_until and a.valid_until < a.valid_from:
        raise r.fail(f"{w}.valid_until", "is before valid_from")
    return a


def _store(r: _Reader, t: dict[str, Any]) -> StoreSettings:
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


def _delivery(r: _Reader, t: dict[str, Any]) -> DeliverySettings:
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


def _limits(r: _Reader, t: dict[str, Any]) -> LimitSettings:
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


def _channels(r: _Reader, t: dict[str, Any]) -> ChannelSettings:
    w = "channels"
    r.unknown_keys(t, w, {"inbox_dir", "print_dir"})

    def directory(key: str, default: str) -> Path:
        p = Path(r.get(t, key, w, str, default))
        return p if p.is_absolute() else r.base / p

    return ChannelSettings(
        inbox_dir=directory("inbox_dir", "inbox"), print_dir=directory("print_dir", "print")
    )


def _logging(r: _Reader, t: dict[str, Any]) -> LogSettings:
    w = "logging"
    r.unknown_keys(t, w, {"format", "level"})
    return LogSettings(
        format=r.choice(t, "format", w, ("auto", "json", "console"), "auto"),
        level=r.choice(t, "level", w, ("debug", "info", "warning", "error"), "info"),
    )


Loader = Callable[[str | Path], Settings]
