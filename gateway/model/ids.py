"""Identifiers of the Peppol network: participants, document types, processes.

Pure values: a ParticipantId checks its own shape; the schemes' check digits
are in ``identifiers``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

PARTICIPANT_SCHEME = "iso6523-actorid-upis"


DOCTYPE_SCHEME = "busdox-docid-qns"


PROCESS_SCHEME = "cenbii-procid-ubl"


BIS3_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


BIS3_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"


UBL_CREDITNOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"


# ISO 6523 ICD: four digits; value: printable, no whitespace, at most 130
# characters for the whole id (Peppol Policy for use of identifiers 4.x).
_ICD = re.compile(r"^[0-9]{4}$")


_MAX_PARTICIPANT_LEN = 130


class InvalidIdentifier(ValueError):
    """A participant identifier that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class ParticipantId:
    """An ISO 6523 participant id such as ``0088:7300010000001``.

    Values are case-insensitive in Peppol, so the value is kept lower-cased
    and two ids compare equal whatever case they were written in.
    """

    scheme: str  # the ICD, e.g. "0088"
    value: str

    @classmethod
    def parse(cls, text: str) -> ParticipantId:
        raw = text.strip()
        if raw.lower().startswith(PARTICIPANT_SCHEME + "::"):
            raw = raw[len(PARTICIPANT_SCHEME) + 2 :]
        icd, sep, value = raw.partition(":")
        if not sep or not _ICD.match(icd):
            raise InvalidIdentifier(
                f"{text!r} is not an ISO 6523 participant id (expected ICD:value, "
                "e.g. 0088:7300010000001)"
            )
        if not value or any(c.isspace() for c in value):
            raise InvalidIdentifier(f"{text!r} has an empty value or whitespace in its value")
        if len(icd) + 1 + len(value) > _MAX_PARTICIPANT_LEN:
            raise InvalidIdentifier(f"{text!r} is longer than {_MAX_PARTICIPANT_LEN} characters")
        return cls(icd, value.lower())

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"

    @property
    def uri(self) -> str:
        """The id as written on the wire (SBDH, SMP, AS4 properties)."""
        return f"{PARTICIPANT_SCHEME}::{self}"


class DocumentKind(enum.StrEnum):
    INVOICE = "Invoice"
    CREDIT_NOTE = "CreditNote"


def document_type_id(kind: DocumentKind, customization: str) -> str:
    """The Peppol document type identifier value for a UBL 2.1 root and CustomizationID."""
    ns = UBL_INVOICE_NS if kind is DocumentKind.INVOICE else UBL_CREDITNOTE_NS
    return f"{ns}::{kind.value}##{customization}::2.1"


# What a participant receives unless told otherwise: BIS Billing 3.0 invoices
# and credit notes.
BIS3_DOCUMENT_TYPES = (
    document_type_id(DocumentKind.INVOICE, BIS3_CUSTOMIZATION),
    document_type_id(DocumentKind.CREDIT_NOTE, BIS3_CUSTOMIZATION),
)
