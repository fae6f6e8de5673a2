"""Settings for tests: a ``Settings`` built in code for one access point, and
a gateway.toml written by ``gateway init``'s own code for a whole network."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.cli.scaffold import init_network
from gateway.config.settings import (
    ChannelSettings,
    DeliverySettings,
    LimitSettings,
    LogSettings,
    NetworkSettings,
    Peer,
    Settings,
    StoreSettings,
)
from gateway.model import ParticipantId
from gateway.pki.certificates import DevPki

from .invoices import BUYER, SELLER


def settings(
    tmp: Path,
    name: str,
    provider_id: str,
    pki: DevPki,
    *,
    peers: tuple[Peer, ...] = (),
    base_url: str = "http://127.0.0.1:9",
    limits: LimitSettings | None = None,
    revocation: str = "soft",
) -> Settings:
    """Access point ``provider_id``'s settings: ``pki``'s key and CA, an
    SQLite store, inbox and print directories under ``tmp``, no participants
    or senders."""
    return Settings(
        path=tmp / f"{name}.toml",
        network=NetworkSettings(
            name=name,
            provider_id=provider_id,
            base_url=base_url,
            listen_host="127.0.0.1",
            listen_port=9,
            key=pki.key,
            certificate=pki.certificate,
            ca_certificates=(pki.ca_certificate,),
            revocation=revocation,
        ),
        participants=(),
        senders=(),
        peers=peers,
        store=StoreSettings(url=f"sqlite://{tmp}/{name}.db"),
        delivery=DeliverySettings(),
        limits=limits or LimitSettings(),
        channels=ChannelSettings(inbox_dir=tmp / "inbox", print_dir=tmp / "print"),
        logging=LogSettings(),
    )


@dataclass(frozen=True)
class NetworkConfig:
    """A network directory ``gateway init`` would write: its gateway.toml and
    the sender token it made."""

    config: Path
    token: str


def network_config(
    root: Path,
    *,
    participants: tuple[ParticipantId, ...] = (SELLER, BUYER),
    name: str = "testnet",
    validation_processes: int | None = 0,
    store: str | None = None,
) -> NetworkConfig:
    """A network ``name`` serving ``participants`` under ``root/net``, its
    store embedded or at the ``store`` URL.

    Validation runs in the caller's process by default (``processes = 0``):
    a validation process per test would cost seconds each; ``None`` keeps
    what ``gateway init`` writes ("auto")."""
    made = init_network(
        root / "net",
        name=name,
        port=8080,
        participants=list(participants),
        now=datetime.now(UTC),
        store=store,
    )
    if validation_processes is not None:
        text = made.config.read_text()
        made.config.write_text(
            text.replace('processes = "auto"', f"processes = {validation_processes}", 1)
        )
    return NetworkConfig(made.config, made.token)


def peer_toml(
    name: str,
    provider_id: str,
    certificate: Path | str | None,
    *,
    endpoint: str = "http://127.0.0.1:9/as4",
    participants: tuple[object, ...] = (),
    agreement: dict[str, str] | None = None,
) -> str:
    """A ``[[peers]]`` table for gateway.toml: without ``certificate``, a peer
    with none pinned; with ``agreement``, its ``[peers.agreement]`` (string values)."""
    lines = ["", "[[peers]]", f'name = "{name}"', f'provider_id = "{provider_id}"']
    lines.append(f'endpoint = "{endpoint}"')
    if certificate is not None:
        lines.append(f'certificate = "{certificate}"')
    lines.append("participants = [" + ", ".join(f'"{p}"' for p in participants) + "]")
    if agreement is not None:
        lines += ["[peers.agreement]", *(f'{k} = "{v}"' for k, v in agreement.items())]
    return "\n".join(lines) + "\n"


def set_delivery(config: Path, **values: float) -> None:
    """Set ``[delivery]`` keys in the gateway.toml at ``config`` (replacing any already there)."""
    text = config.read_text()
    for key, value in values.items():
        text = "\n".join(ln for ln in text.splitlines() if not ln.startswith(f"{key} ="))
        text = text.replace("[delivery]", f"[delivery]\n{key} = {value}", 1)
    config.write_text(text + "\n")


def set_participant(config: Path, pid: ParticipantId, **values: object) -> None:
    """Set keys of participant ``pid``'s ``[[participants]]`` table in the
    gateway.toml at ``config`` (replacing those already there); values are
    written as TOML (strings quoted, lists as arrays)."""
    blocks = config.read_text().split("[[participants]]")
    for i, block in enumerate(blocks):
        if f'id = "{pid}"' not in block:
            continue
        lines = [ln for ln in block.split("\n") if ln.split(" =")[0].strip() not in values]
        added = [f"{key} = {_toml(value)}" for key, value in values.items()]
        blocks[i] = "\n".join([lines[0], *added, *lines[1:]])
        config.write_text("[[participants]]".join(blocks))
        return
    raise AssertionError(f"no participant {pid} in {config}")


def _toml(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Path):
        value = str(value)
    return json.dumps(value)
