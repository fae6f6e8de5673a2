"""The suite-wide check that no log line carries a secret (issue #9, item 13).

Per pytest process (each xdist worker on its own), under its base temporary
directory, where every test's ``tmp_path`` also lives:

- the gateway's in-process log lines (structlog, and the standard-library
  records it takes over) go to ``inprocess.log`` as well as to stderr;
- ``tests.support.gateway_cli`` appends each command's stderr to ``cli.log``;
  the gateway processes tests start write ``*.log`` files under ``tmp_path``;
- the secrets are the contents of every ``sender.token`` file there (what
  ``gateway init`` and ``scaffold.init_network`` write for each token they
  create) and whatever a test passes to ``register`` (admin tokens).

At the end of the session every ``*.log`` file under that directory is
searched for every secret; a hit fails the run (conftest.py; an xdist
worker reports it to the controller). So a log file a test writes must end
in ``.log`` to be checked.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_state: dict[str, Any] = {"base": None, "registered": set()}


def start(base: Path) -> None:
    _state["base"] = base


def register(*secrets: str) -> None:
    _state["registered"].update(secrets)


def append(name: str, text: str) -> None:
    base = _state["base"]
    if base is not None and text:
        with open(base / name, "a", encoding="utf-8") as fh:
            fh.write(text)


class Tee:
    """A log stream that writes to stderr (as captured for the test) and to a file."""

    def __init__(self, name: str) -> None:
        self._name = name

    def write(self, text: str) -> int:
        sys.stderr.write(text)
        append(self._name, text)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return False


def leaks() -> list[str]:
    """One line per (log file, secret) found, naming only the secret's start."""
    base = _state["base"]
    if base is None:
        return []
    secrets = set(_state["registered"])
    secrets |= {p.read_text(encoding="utf-8").strip() for p in base.rglob("sender.token")}
    found = []
    for log in sorted(base.rglob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        found += [f"{log}: {s[:4]}..." for s in sorted(secrets) if s and s in text]
    return found
