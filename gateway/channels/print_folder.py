"""What the print channel and the batch close agree on about a day's folder.

A day's folder (``<print_dir>/<YYYY-MM-DD>``) is open until a ``closed``
marker is in it; from then on the print channel puts new documents into the
next day's batch. ``handed-off`` says the batch reached the print house.
Both sides take the print folder's lock (an flock on ``<print_dir>/.lock``,
so it also holds between a serving gateway and ``gateway print close`` in
another process) while they look at the marker and change a day's folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

CLOSED = "closed"
HANDED_OFF = "handed-off"
LOCK = ".lock"


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the print folder's lock (creating the folder) for the block."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock


def is_closed(folder: Path) -> bool:
    return (folder / CLOSED).exists()


def write_marker(folder: Path, name: str, text: str) -> None:
    """Write a marker file in one step (temporary name, fsync, rename)."""
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / name)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
