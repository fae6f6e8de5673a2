"""The ``network`` reception channel of our own participants: each document
lands in the participant's network inbox folder, ``<inbox_dir>/<participant>/
<document id>.xml``, where its own software (an ERP connector, an SFTP
pick-up) collects it. The print channel is in ``printing.py``.

Writes are atomic (temporary file, fsync, rename) and keyed by document id,
so a delivery retried after a crash overwrites itself instead of duplicating.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from gateway.channels.base import Outcome, Parcel, Recipient


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


class NetworkFolderChannel:
    """Reception mode ``network``: the participant's inbox folder."""

    mode = "network"

    def __init__(self, root: Path) -> None:
        self.root = root

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        path = self.root / _safe(recipient.id) / f"{_safe(parcel.meta.id)}.xml"
        try:
            await asyncio.to_thread(_write_atomic, path, parcel.payload)
        except OSError as exc:  # a full or read-only disk: try again later
            return Outcome.retry(f"could not write its inbox folder: {exc.strerror or exc}")
        return Outcome.delivered(
            f"delivered to {recipient.id} by network (its inbox folder)",
            {"location": str(path)},
        )
