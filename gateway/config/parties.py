"""The parties of gateway.toml: our participants, our senders, the peer networks.

Read by ``loader``; every problem is a ConfigError naming the key path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from gateway.config.reader import Reader
from gateway.config.settings import (
    NetworkSettings,
    Participant,
    Peer,
    Sender,
    hash_token,
)
from gateway.config.terms import agreement as _agreement
from gateway.model import ParticipantId, reception_modes


def read_participants(r: Reader, rows: list[dict[str, Any]]) -> tuple[Participant, ...]:
    seen: set[ParticipantId] = set()
    out = []
    for i, t in enumerate(rows):
        w = f"participants[{i}]"
        r.unknown_keys(
            t, w, {"id", "name", "email", "reception", "country", "address", "export_dir"}
        )
        pid = r.participant_id(r.get(t, "id", w, str), f"{w}.id")
        if pid in seen:
            raise r.fail(f"{w}.id", f"participant {pid} is listed twice")
        seen.add(pid)
        reception = _reception(r, t, w)
        email = r.get(t, "email", w, str, "")
        address = tuple(r.strings(t, "address", w))
        if reception == ("email",) and not email:
            raise r.fail(f"{w}.email", "reception is email, so an email address is needed")
        if reception == ("paper",) and not address:
            raise r.fail(f"{w}.address", "reception is paper, so a postal address is needed")
        export = r.file(t, "export_dir", w, must_exist=False) if "export_dir" in t else None
        out.append(
            Participant(
                id=pid,
                name=r.get(t, "name", w, str),
                email=email,
                reception=reception,
                country=r.get(t, "country", w, str, ""),
                address=address,
                export_dir=export,
            )
        )
    return tuple(out)


def _reception(r: Reader, t: dict[str, Any], where: str) -> tuple[str, ...]:
    """``reception``: one mode or an ordered list of modes (the waterfall)."""
    raw = t.get("reception", "network")
    if not isinstance(raw, str) and not (
        isinstance(raw, list) and all(isinstance(m, str) for m in raw)
    ):
        raise r.fail(f"{where}.reception", "must be a mode or a list of modes")
    try:
        return reception_modes(raw)
    except ValueError as exc:
        raise r.fail(f"{where}.reception", str(exc)) from None


def read_senders(
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


def read_peers(
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
                "allow_insecure",
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
                endpoint=checked_url(r, r.get(t, "endpoint", w, str), f"{w}.endpoint"),
                certificate=cert,
                participants=tuple(pids),
                agreement=_agreement(
                    r,
                    r.table(t, "agreement", w, required=False),
                    f"{w}.agreement",
                    f"{network.name}-{name}",
                ),
                smp_url=checked_url(r, r.get(t, "smp_url", w, str), f"{w}.smp_url")
                if "smp_url" in t
                else "",
                allow_insecure=r.get(t, "allow_insecure", w, bool, False),
            )
        )
    return tuple(out)


def checked_url(r: Reader, value: str, key: str) -> str:
    try:
        u = urlparse(value)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        u = urlparse("")
    if u.scheme not in ("http", "https") or not u.netloc:
        raise r.fail(key, f"must be an http(s) URL; got {value!r}")
    return value
