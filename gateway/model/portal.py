"""The recipient portal's values: a signed-in session, and a company's
reception choice as made in the portal (kept with its history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PortalSession:
    """A signed-in company. The store keeps only the SHA-256 of the cookie's
    value, so a copy of the store signs nobody in."""

    id_sha256: str
    participant: str  # str(ParticipantId) of the company signed in
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PortalChoice:
    """How a company chose to receive, in the portal: it applies to the next
    delivery. Every change is kept, newest first, as its history."""

    participant: str
    reception: tuple[str, ...]  # the waterfall, first mode first
    email: str
    address: tuple[str, ...]  # postal address lines
    at: datetime
    by: str = "portal"  # who made it: "portal" (a signed-in company)

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "reception": list(self.reception),
            "email": self.email,
            "address": list(self.address),
            "at": self.at.isoformat(),
            "by": self.by,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PortalChoice:
        return cls(
            data["participant"],
            tuple(data["reception"]),
            data["email"],
            tuple(data["address"]),
            datetime.fromisoformat(data["at"]),
            data.get("by", "portal"),
        )
