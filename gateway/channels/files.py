"""File-based channels: each participant's inbox (portal download and network
reception). The print channel is in ``printing.py``.

Writes are atomic (temporary file, fsync, rename) and keyed by document id,
so a delivery retried after a crash overwrites itself instead of duplicating.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class Delivered:
    location: str  # where the document now is (a path under the channel's folder)
    batch: str = ""


class InboxChannel:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def deliver(self, participant: str, document_id: str, payload: bytes) -> Delivered:
        path = self.root / _safe(participant) / f"{document_id}.xml"
        await asyncio.to_thread(_write_atomic, path, payload)
        return Delivered(location=str(path))
