"""The ``network`` reception channel of our own participants: each document
lands in the participant's network inbox folder, ``<inbox_dir>/<participant>/
<document id>.xml``, where its own software (an ERP connector, an SFTP
pick-up) collects it. The print channel is in ``printing.py``.

Writes are atomic (temporary file, fsync, rename) and keyed by document id,
so a delivery retried after a crash overwrites itself instead of duplicating.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from gateway.channels.atomic import safe_name, write_atomic
from gateway.channels.base import Outcome, Parcel, Recipient


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
        path = self.root / safe_name(recipient.id) / f"{safe_name(parcel.meta.id)}.xml"
        try:
            await asyncio.to_thread(write_atomic, path, parcel.payload, make_parents=True)
        except OSError as exc:  # a full or read-only disk: try again later
            return Outcome.retry(f"could not write its inbox folder: {exc.strerror or exc}")
        return Outcome.delivered(
            f"delivered to {recipient.id} by network (its inbox folder)",
            {"location": str(path)},
        )
