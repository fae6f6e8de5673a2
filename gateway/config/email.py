"""``[channels.email]``: the SMTP relay the e-mail reception channel sends through.

Absent, the gateway has no e-mail channel. The password is read from its own
file at start (``password_file``), so gateway.toml holds no secret; a missing
or unreadable file is a ConfigError naming the key, like every other problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gateway.config.reader import Reader

TLS_MODES = ("none", "starttls", "implicit")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "implicit": 465}
_KEYS = {
    "host",
    "port",
    "tls",
    "username",
    "password_file",
    "ca_file",
    "from",
    "portal_url",
    "connections",
    "render_processes",
    "connect_timeout_seconds",
    "timeout_seconds",
}
# A plain mailbox: no display name, no comments, no whitespace. The domain is
# a host name (letters, digits, hyphens, dots) so that it can name Message-IDs.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    tls: str  # none | starttls | implicit
    sender: str  # the `from` key: the envelope sender and the From header
    username: str = ""  # empty: no authentication (a local relay)
    password: str = field(default="", repr=False)  # read from password_file; never logged
    ca_file: Path | None = None  # CAs trusted for the relay's certificate; None: the system's
    portal_url: str = ""  # shown as a link in each message when set
    connections: int = 4  # SMTP connections kept open and reused
    render_processes: int = 0  # processes rendering the PDFs; 0: the serving process's threads
    connect_timeout_seconds: float = 10.0
    timeout_seconds: float = 30.0

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]


def address_problem(address: str) -> str | None:
    """Why ``address`` is not a plain e-mail address (``name@example.com``), or None."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "must be an e-mail address such as invoices@example.com"
    if not _LOCAL.fullmatch(local) or local.startswith(".") or ".." in local:
        return f"{address!r} has an invalid part before the @"
    if not _DOMAIN.fullmatch(domain):
        return f"{address!r} has an invalid domain after the @"
    return None


def read_email(r: Reader, t: dict[str, Any], where: str) -> EmailSettings | None:
    """The ``[channels.email]`` table ``t`` (empty: no e-mail channel)."""
    if not t:
        return None
    w = where
    r.unknown_keys(t, w, _KEYS)
    host = r.get(t, "host", w, str)
    if not host.strip() or any(c.isspace() for c in host):
        raise r.fail(f"{w}.host", f"must be a host name or address; got {host!r}")
    tls = r.choice(t, "tls", w, TLS_MODES, "starttls")
    port = r.get(t, "port", w, int, DEFAULT_PORTS[tls])
    if not 1 <= port <= 65535:
        raise r.fail(f"{w}.port", f"must be between 1 and 65535; got {port}")
    sender = r.get(t, "from", w, str)
    problem = address_problem(sender)
    if problem:
        raise r.fail(f"{w}.from", problem)
    username = r.get(t, "username", w, str, "")
    password = ""
    if "password_file" in t:
        password = _password(r, t, w)
        if not username:
            raise r.fail(f"{w}.username", "password_file is set, so a username is needed")
    elif username:
        raise r.fail(f"{w}.password_file", "username is set, so a password_file is needed")
    ca_file = r.file(t, "ca_file", w, must_exist=True) if "ca_file" in t else None
    if ca_file is not None and tls == "none":
        raise r.fail(f"{w}.ca_file", 'is only used with tls = "starttls" or "implicit"')
    portal_url = r.get(t, "portal_url", w, str, "")
    if portal_url:
        parsed = urlparse(portal_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or _unsafe(portal_url):
            raise r.fail(f"{w}.portal_url", f"must be an http(s) URL; got {portal_url!r}")
    return EmailSettings(
        host=host,
        port=port,
        tls=tls,
        sender=sender,
        username=username,
        password=password,
        ca_file=ca_file,
        portal_url=portal_url,
        connections=r.positive(t, "connections", w, int, 4),
        render_processes=_render_processes(r, t, w),
        connect_timeout_seconds=r.positive(t, "connect_timeout_seconds", w, float, 10.0),
        timeout_seconds=r.positive(t, "timeout_seconds", w, float, 30.0),
    )


def _render_processes(r: Reader, t: dict[str, Any], w: str) -> int:
    n = r.get(t, "render_processes", w, int, 0)
    if not 0 <= n <= 64:
        raise r.fail(f"{w}.render_processes", f"must be between 0 and 64; got {n}")
    return n


def _password(r: Reader, t: dict[str, Any], w: str) -> str:
    key = f"{w}.password_file"
    path = r.file(t, "password_file", w, must_exist=False)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise r.fail(key, f"file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise r.fail(key, f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        password = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise r.fail(key, f"{str(path)!r} is not UTF-8 text") from None
    if not password:
        raise r.fail(key, f"{str(path)!r} is empty")
    if "\n" in password or "\r" in password:
        raise r.fail(key, f"{str(path)!r} must hold the password on one line")
    return password


def _unsafe(text: str) -> bool:
    return any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text)
