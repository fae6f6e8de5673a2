"""File-based channels: each participant's inbox (portal download and network
reception) and the print spool (a folder per day, with a CSV manifest).

Writes are atomic (temporary file, fsync, rename) and keyed by document id,
so a delivery retried after a crash overwrites itself instead of duplicating.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from dataclasses import dataclass
from datetime import datetime
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


class PrintChannel:
    """First version of the print channel: the document joins the day's batch.

    The routing issue renders a print-ready PDF; the batch and manifest stay.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    async def deliver(
        self, recipient: str, document_id: str, payload: bytes, *, now: datetime
    ) -> Delivered:
        batch = now.strftime("%Y-%m-%d")
        await asyncio.to_thread(self._add, batch, recipient, document_id, payload)
        return Delivered(location=str(self.root / batch / f"{document_id}.xml"), batch=batch)

    def _add(self, batch: str, recipient: str, document_id: str, payload: bytes) -> None:
        folder = self.root / batch
        target = folder / f"{document_id}.xml"
        fresh = not target.exists()
        _write_atomic(target, payload)
        if fresh:
            line = io.StringIO()
            csv.writer(line).writerow([document_id, recipient, f"{document_id}.xml"])
            with open(folder / "manifest.csv", "a", encoding="utf-8") as fh:
                fh.write(line.getvalue())
                fh.flush()
                os.fsync(fh.fileno())
