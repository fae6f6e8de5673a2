"""A partner: one participant of ours, of an interconnected network, or of none yet.

Partners come from admins' files (``gateway.directory.partner_files.partner_files``) and
live in the store; routing and delivery read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.model.ids import BIS3_DOCUMENT_TYPES

RECEPTIONS = ("network", "email", "portal", "paper")


# What a partner receives when its file names no document type.
DEFAULT_DOCUMENT_TYPES = BIS3_DOCUMENT_TYPES


@dataclass(frozen=True, slots=True)
class Partner:
    id: str  # str(ParticipantId): ICD:value, the value lower-cased
    name: str
    network: str = ""  # the network it belongs to (ours for our participants); "" = none yet
    document_types: tuple[str, ...] = ()  # Peppol document type ids; () = DEFAULT_DOCUMENT_TYPES
    reception: str = "network"  # network | email | portal | paper (our participants' choice)
    email: str = ""
    address: tuple[str, ...] = ()  # postal address lines, as printed on an envelope
    country: str = ""  # ISO 3166-1 alpha-2, upper case

    def receives(self, document_type: str) -> bool:
        return document_type in (self.document_types or DEFAULT_DOCUMENT_TYPES)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "network": self.network,
            "document_types": list(self.document_types),
            "reception": self.reception,
            "email": self.email,
            "address": list(self.address),
            "country": self.country,
        }
