"""Files the channels write so that a crash or a retry never leaves half of
one: a temporary name per process and thread, fsync, rename over the
target, fsync of the folder (so the rename survives a power loss).

``safe_name`` turns an id (a document id, a participant id) into a file name.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def safe_name(text: str) -> str:
    """``text`` with every character but letters, digits, '-', '.' and '_'
    replaced by '_'; ValueError when nothing usable is left ("", ".", "..")."""
    name = "".join(c if c.isalnum() or c in "-._" else "_" for c in text)
    if name.strip(".") == "":
        raise ValueError(f"{text!r} cannot name a file")
    return name


def write_atomic(path: Path, data: bytes, *, make_parents: bool = False) -> None:
    """Replace ``path`` with ``data`` in one step: readers see the old file or
    the new one, never a part (two writers at once: the last rename wins)."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new name in ``folder`` survive a power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
