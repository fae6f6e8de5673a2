"""The ``[print_house]`` table: where a closed print batch goes, and when.

A day's print batch is closed (merged PDF, manifest, ZIP) and handed off to
the print house either by copying the ZIP into a folder (a mounted share, a
synced directory) or by uploading it over SFTP with a private key, the
server's host key checked against a known_hosts file. ``close_at`` makes
``gateway serve`` close and hand off each day's batch on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from gateway.config.reader import Reader

HANDOFFS = ("none", "folder", "sftp")
_KEYS = {
    "handoff",
    "folder",
    "sftp_host",
    "sftp_port",
    "username",
    "key_file",
    "known_hosts",
    "remote_dir",
    "close_at",
    "connect_timeout_seconds",
    "timeout_seconds",
    "retry_seconds",
}


@dataclass(frozen=True)
class PrintHouseSettings:
    handoff: str = "none"  # "none": batches are closed but stay in the print folder
    folder: Path | None = None  # handoff = "folder": the ZIP is copied here
    sftp_host: str = ""
    sftp_port: int = 22
    username: str = ""
    key_file: Path | None = None  # our private key (OpenSSH or PEM)
    known_hosts: Path | None = None  # the print house's host key; an unknown host is refused
    remote_dir: str = "."  # where the ZIP lands on the server
    close_at: time | None = None  # daily automatic close in the gateway's clock (UTC); None: never
    connect_timeout_seconds: float = 10.0
    timeout_seconds: float = 120.0  # the whole upload
    retry_seconds: float = 300.0  # after a failed hand-off, the next try


def read_print_house(r: Reader, t: dict[str, Any]) -> PrintHouseSettings:
    """Read and check ``[print_house]``; an absent table means no hand-off."""
    w, d = "print_house", PrintHouseSettings()
    r.unknown_keys(t, w, _KEYS)
    handoff = r.choice(t, "handoff", w, HANDOFFS, "none")
    floats = {
        k: r.positive(t, k, w, float, getattr(d, k))
        for k in ("connect_timeout_seconds", "timeout_seconds", "retry_seconds")
    }
    close_at = _close_at(r, t.get("close_at"))
    if handoff == "folder":
        folder = _path(r, r.get(t, "folder", w, str))
        if not folder.is_dir():
            raise r.fail(f"{w}.folder", f"directory {str(folder)!r} does not exist")
        return PrintHouseSettings(handoff, folder=folder, close_at=close_at, **floats)
    if handoff == "sftp":
        port = r.get(t, "sftp_port", w, int, 22)
        if not 0 < port < 65536:
            raise r.fail(f"{w}.sftp_port", f"must be a TCP port (1-65535); got {port}")
        host = r.get(t, "sftp_host", w, str)
        username = r.get(t, "username", w, str)
        if not host.strip() or not username.strip():
            raise r.fail(w, "sftp_host and username must not be empty")
        return PrintHouseSettings(
            handoff,
            sftp_host=host,
            sftp_port=port,
            username=username,
            key_file=r.file(t, "key_file", w, must_exist=True),
            known_hosts=r.file(t, "known_hosts", w, must_exist=True),
            remote_dir=r.get(t, "remote_dir", w, str, ".") or ".",
            close_at=close_at,
            **floats,
        )
    given = sorted(set(t) - {"handoff", "close_at", *floats})
    if given:
        raise r.fail(f"{w}.{given[0]}", 'is used only with handoff = "folder" or "sftp"')
    return PrintHouseSettings(close_at=close_at, **floats)


def _path(r: Reader, raw: str) -> Path:
    p = Path(raw)
    return p if p.is_absolute() else r.base / p


def _close_at(r: Reader, value: object) -> time | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise r.fail("print_house.close_at", f'must be "HH:MM" (24-hour), not {value!r}') from None
