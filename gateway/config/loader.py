"""Reading gateway.toml: the only reader of the configuration file.

Every problem is a ConfigError naming the file, the key path
(``peers[1].endpoint``) and what is wrong. Relative paths are relative to
the file's own directory. ``gateway.config.settings`` holds the values read.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from gateway.config.email import read_email
from gateway.config.parties import checked_url, read_participants, read_peers, read_senders
from gateway.config.print_house import read_print_house
from gateway.config.reader import Reader
from gateway.config.safety import check_peers
from gateway.config.settings import (
    ENVIRONMENTS,
    MAX_XML_DEPTH,
    ChannelSettings,
    DeliverySettings,
    HttpSettings,
    LimitSettings,
    LogSettings,
    NetworkSettings,
    Settings,
    StoreSettings,
    ValidationSettings,
)
from gateway.config.terms import mandates as _mandates
from gateway.config.webhooks import read_webhooks
from gateway.errors import ConfigError


def load_settings(path: str | Path) -> Settings:
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
            "http",
            "print_house",
            "webhooks",
        },
    )
    network = _network(r, r.table(data, "network", "", required=True))
    participants = read_participants(r, r.array_of_tables(data, "participants"))
    senders = read_senders(r, r.array_of_tables(data, "senders"), participants)
    peers = read_peers(r, r.array_of_tables(data, "peers"), participants, network)
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
        warnings=check_peers(r, peers, network),
        http=_http(r, r.table(data, "http", "", required=False)),
        print_house=read_print_house(r, r.table(data, "print_house", "", required=False)),
        webhooks=read_webhooks(r, r.table(data, "webhooks", "", required=False)),
    )


def _http(r: Reader, t: dict[str, Any]) -> HttpSettings:
    w, d = "http", HttpSettings()
    r.unknown_keys(t, w, set(HttpSettings.__dataclass_fields__))
    spool_dir = None
    if "spool_dir" in t:
        spool_dir = Path(r.get(t, "spool_dir", w, str))
        spool_dir = spool_dir if spool_dir.is_absolute() else r.base / spool_dir
        if not spool_dir.is_dir():
            raise r.fail(f"{w}.spool_dir", f"directory {str(spool_dir)!r} does not exist")
    ints = ("inflight_bytes", "spool_threshold_bytes", "max_connections_per_address")
    floats = ("inflight_wait_seconds", "header_timeout_seconds", "body_timeout_seconds")
    return HttpSettings(
        spool_dir=spool_dir,
        **{k: r.positive(t, k, w, int, getattr(d, k)) for k in ints},
        **{k: r.positive(t, k, w, float, getattr(d, k)) for k in floats},
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

    return ValidationSettings(
        schema_dir=directory("schema_dir"),
        official_rules_dir=directory("official_rules_dir"),
        processes=_processes(r, t.get("processes", "auto")),
    )


def _processes(r: Reader, value: object) -> int | None:
    if value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise r.fail(
            "validation.processes",
            f'must be "auto" (one per spare core), 0 (validate in the serving process) '
            f"or a positive number of processes, not {value!r}",
        )
    return value


def _admin(r: Reader, t: dict[str, Any]) -> str:
    r.unknown_keys(t, "admin", {"token_sha256"})
    digest = r.get(t, "token_sha256", "admin", str, "").lower()
    if digest and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        raise r.fail("admin.token_sha256", "must be 64 hexadecimal characters")
    return digest


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
            "revocation",
            "revocation_timeout_seconds",
            "environment",
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
        base_url=checked_url(r, r.get(t, "base_url", w, str), f"{w}.base_url"),
        listen_host=r.get(t, "listen_host", w, str, "127.0.0.1"),
        listen_port=port,
        key=r.file(t, "key", w, must_exist=True),
        certificate=r.file(t, "certificate", w, must_exist=True),
        ca_certificates=cas,
        workers=r.positive(t, "workers", w, int, 1),
        revocation=r.choice(t, "revocation", w, ("off", "soft", "hard"), "soft"),
        revocation_timeout_seconds=r.positive(t, "revocation_timeout_seconds", w, float, 5.0),
        environment=r.choice(t, "environment", w, ENVIRONMENTS, "production"),
    )


def _store(r: Reader, t: dict[str, Any]) -> StoreSettings:
    w = "store"
    r.unknown_keys(t, w, {"path", "url", "prefix", "sync", "timeout_seconds"})
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
        url=url,
        prefix=prefix,
        sync=r.choice(t, "sync", w, ("full", "normal"), "full"),
        timeout_seconds=r.positive(t, "timeout_seconds", w, float, 5.0),
    )


def _delivery(r: Reader, t: dict[str, Any]) -> DeliverySettings:
    w = "delivery"
    d = DeliverySettings()
    r.unknown_keys(t, w, set(DeliverySettings.__dataclass_fields__))
    floats: dict[str, Any] = {  # Any: mypy would match these to the int fields too
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
    concurrency = r.positive(t, "concurrency", w, int, d.concurrency)
    return _peer_limits(r, t, dataclasses.replace(d, concurrency=concurrency, **floats))


def _peer_limits(r: Reader, t: dict[str, Any], given: DeliverySettings) -> DeliverySettings:
    """What keeps one slow or dead peer from delaying the others' deliveries."""
    w = "delivery"
    d = DeliverySettings()
    concurrency, timeout = given.concurrency, given.timeout_seconds
    # A peer that drops connection attempts fails here, not after the whole timeout.
    connect = r.positive(
        t, "connect_timeout_seconds", w, float, min(d.connect_timeout_seconds, timeout)
    )
    if connect > timeout:
        raise r.fail(f"{w}.connect_timeout_seconds", "must not exceed timeout_seconds")
    per_peer = r.positive(
        t, "per_peer_concurrency", w, int, min(d.per_peer_concurrency, concurrency)
    )
    if per_peer > concurrency:
        raise r.fail(f"{w}.per_peer_concurrency", f"must be at most concurrency ({concurrency})")
    return dataclasses.replace(
        given,
        connect_timeout_seconds=connect,
        per_peer_concurrency=per_peer,
        breaker_failures=r.positive(t, "breaker_failures", w, int, d.breaker_failures),
        breaker_open_seconds=r.positive(
            t, "breaker_open_seconds", w, float, d.breaker_open_seconds
        ),
    )


def _limits(r: Reader, t: dict[str, Any]) -> LimitSettings:
    w = "limits"
    d = LimitSettings()
    r.unknown_keys(t, w, set(LimitSettings.__dataclass_fields__))
    limits = LimitSettings(
        **{k: r.positive(t, k, w, int, getattr(d, k)) for k in LimitSettings.__dataclass_fields__}
    )
    if limits.max_depth > MAX_XML_DEPTH:
        # libxml2 refuses deeper documents on its own, and the parser holds
        # documents it parses in huge-tree mode to the same depth.
        raise r.fail(f"{w}.max_depth", f"must be at most {MAX_XML_DEPTH}")
    return limits


def _channels(r: Reader, t: dict[str, Any]) -> ChannelSettings:
    w = "channels"
    r.unknown_keys(t, w, {"inbox_dir", "print_dir", "email"})

    def directory(key: str, default: str) -> Path:
        p = Path(r.get(t, key, w, str, default))
        return p if p.is_absolute() else r.base / p

    return ChannelSettings(
        inbox_dir=directory("inbox_dir", "inbox"),
        print_dir=directory("print_dir", "print"),
        email=read_email(r, r.table(t, "email", w, required=False), f"{w}.email"),
    )


def _logging(r: Reader, t: dict[str, Any]) -> LogSettings:
    w = "logging"
    r.unknown_keys(t, w, {"format", "level"})
    return LogSettings(
        format=r.choice(t, "format", w, ("auto", "json", "console"), "auto"),
        level=r.choice(t, "level", w, ("debug", "info", "warning", "error"), "info"),
    )


def load(path: str | Path) -> Settings:
    """Read and check a gateway.toml. Raises ConfigError, never anything else."""
    return load_settings(path)
