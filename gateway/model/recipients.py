"""Recipients and what they read: the accounts that open an inbox, and the
pages of documents an inbox (or a sender's listing) shows.

A listing is paged by an opaque cursor: the (received_at, id) of the last
document of the page, so a page never skips or repeats a document when new
ones arrive meanwhile (they are newer, and the listing is newest first).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from gateway.model.documents import DocumentMeta, State

LISTING_LIMIT = 50  # a page, unless the caller asks for another size
LISTING_MAX = 200  # the largest page anyone gets


@dataclass(frozen=True, slots=True)
class RecipientAccount:
    """Who may read an inbox: a name, the SHA-256 of its token (the token
    itself is shown once and never kept), and the participants it reads."""

    name: str
    token_sha256: str
    participants: tuple[str, ...]
    created_at: datetime
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the listing goes on with older documents."""

    micros: int  # received_at, epoch microseconds
    document_id: str

    def encode(self) -> str:
        raw = f"{self.micros}|{self.document_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raise ValueError (saying so) unless ``text`` came from encode."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            micros, _, document_id = raw.partition("|")
            if not document_id or not micros.isdigit():
                raise ValueError
            return cls(int(micros), document_id)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValueError(f"cursor {text[:60]!r} is not one this gateway gave out") from None


@dataclass(frozen=True, slots=True)
class Listed:
    """A document in a listing, with its current state (its last event's)."""

    meta: DocumentMeta
    state: State


@dataclass(frozen=True, slots=True)
class ListingPage:
    documents: list[Listed]
    next_cursor: str | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """One page of a listing: whose documents (recipients or a sender's
    token name), in which current state, received at or after ``since``."""

    state: State | None = None
    since: datetime | None = None
    cursor: Cursor | None = None
    limit: int = LISTING_LIMIT
