"""A partner: one participant of ours, of an interconnected network, or of none yet.

Partners come from admins' files (``gateway.directory.partner_files.partner_files``) and
live in the store; routing and delivery read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.model.ids import BIS3_DOCUMENT_TYPES

# The reception modes a recipient may choose, alone or as an ordered list
# (its waterfall: the first channel that takes a document delivers it).
RECEPTIONS = ("network", "api", "email", "portal", "paper")
RECEPTION_SEPARATOR = ";"  # in a partner file cell and in the stored text: "api;email;paper"


def reception_modes(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The ordered modes of a reception choice: one mode, a list, or modes
    joined by ';'. Raises ValueError naming what is wrong."""
    items = value.split(RECEPTION_SEPARATOR) if isinstance(value, str) else list(value)
    modes = tuple(str(item).strip().lower() for item in items)
    if not modes or any(not m for m in modes):
        raise ValueError("an empty reception mode")
    for mode in modes:
        if mode not in RECEPTIONS:
            raise ValueError(
                f"unknown reception {mode!r} (expected one of {', '.join(RECEPTIONS)})"
            )
    if len(set(modes)) != len(modes):
        raise ValueError(f"reception {RECEPTION_SEPARATOR.join(modes)!r} names a mode twice")
    return modes


# What a partner receives when its file names no document type.
DEFAULT_DOCUMENT_TYPES = BIS3_DOCUMENT_TYPES


@dataclass(frozen=True, slots=True)
class Partner:
    id: str  # str(ParticipantId): ICD:value, the value lower-cased
    name: str
    network: str = ""  # the network it belongs to (ours for our participants); "" = none yet
    document_types: tuple[str, ...] = ()  # Peppol document type ids; () = DEFAULT_DOCUMENT_TYPES
    # Our participants' choice: one of RECEPTIONS, or several joined by ';'
    # in the order they are tried ("api;email;paper").
    reception: str = "network"
    email: str = ""
    address: tuple[str, ...] = ()  # postal address lines, as printed on an envelope
    country: str = ""  # ISO 3166-1 alpha-2, upper case
    # Why the postal address is in doubt ("" = it is not): set when the print
    # house returns a letter (gateway print import-status); an import of the
    # partner's record replaces it, as the admin's new word on the address.
    address_suspect: str = ""

    @property
    def modes(self) -> tuple[str, ...]:
        """The reception modes in the order they are tried."""
        try:
            return reception_modes(self.reception)
        except ValueError:  # written by an older version or by hand: the safe default
            return ("network",)

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
            "address_suspect": self.address_suspect,
        }
