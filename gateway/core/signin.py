"""Signed one-time sign-in links for the recipient portal.

A link carries who it signs in (a participant id), a random nonce, when it
stops working and, for a document notice, the document to open after
signing in; an HMAC-SHA256 over all of it with the portal's key makes it
unforgeable. Whether its nonce was already used is the store's business
(``PortalStore.use_link_nonce``): this module only makes and checks the text.

Pure: the caller passes the key, the nonce and the time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LINK_LIFETIME = timedelta(minutes=15)
_MAX_TOKEN = 2048


@dataclass(frozen=True, slots=True)
class SignIn:
    participant: str
    nonce: str
    expires_at: datetime
    document: str = ""  # a document to open once signed in ("" = the inbox)


class BadLink(ValueError):
    """A link that is forged, damaged or expired (the message says which)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"portal-link\x00" + body.encode(), hashlib.sha256).digest())


def make_token(key: bytes, link: SignIn) -> str:
    """The token of a link: URL-safe text, ``<body>.<mac>``."""
    body = _b64(
        json.dumps(
            {
                "p": link.participant,
                "n": link.nonce,
                "e": int(link.expires_at.timestamp()),
                "d": link.document,
            },
            separators=(",", ":"),
        ).encode()
    )
    return f"{body}.{_mac(key, body)}"


def read_token(key: bytes, token: str, *, now: datetime) -> SignIn:
    """The link a token stands for; BadLink when forged, damaged or expired."""
    body, dot, mac = token.partition(".")
    if not dot or len(token) > _MAX_TOKEN or not hmac.compare_digest(_mac(key, body), mac):
        raise BadLink("the link is not one this gateway made")
    try:
        data = json.loads(_unb64(body))
        link = SignIn(
            str(data["p"]),
            str(data["n"]),
            datetime.fromtimestamp(int(data["e"]), UTC),
            str(data.get("d", "")),
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise BadLink("the link is damaged") from None
    if link.expires_at <= now:
        raise BadLink("the link has expired")
    return link


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """An HMAC of ``value`` for one ``purpose`` (the CSRF token of a session)."""
    return _b64(hmac.new(key, purpose.encode() + b"\x00" + value.encode(), hashlib.sha256).digest())


def sign_in_url(base_url: str, key: bytes, link: SignIn) -> str:
    """The whole sign-in URL of a link, under the gateway's public base URL."""
    return f"{base_url.rstrip('/')}/portal/sign-in/{make_token(key, link)}"


def new_link(participant: str, nonce: str, now: datetime, document: str = "") -> SignIn:
    """A link for ``participant`` made at ``now``: it works for LINK_LIFETIME."""
    return SignIn(participant, nonce, now + LINK_LIFETIME, document)
