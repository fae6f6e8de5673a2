"""Peppol discovery names: identifiers in SMP URLs and SML DNS names.

Pure: strings in, strings out. The SMP documents are in ``smp``; the HTTP
sides are ``transport/smp_server.py`` and ``transport/smp_client.py``.
References: Peppol "Service Metadata Publishing (SMP)" 1.x, "Service Metadata
Locator (SML)" and the Policy for use of Identifiers 4.x.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote, unquote

from gateway.model import DOCTYPE_SCHEME, PARTICIPANT_SCHEME, InvalidIdentifier, ParticipantId

# Where an SMP's REST paths start, on our server and on the peers' we ask.
SMP_PATH = "/smp"


# SML zones as docs/peppol.md (shared design) gives them.
SML_ZONE_PRODUCTION = "participant.sml.prod.tech.peppol.org"


SML_ZONE_TEST = "participant.sml.test.tech.peppol.org"


# Clients encode once, twice (a proxy or a library re-encoding "%"), or not
# at all; decoding until nothing changes undoes all of them. Bounded so a
# hostile "%25252525..." costs nothing.
_MAX_DECODE_ROUNDS = 4


def _decode(segment: str) -> str:
    text = segment
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text.strip()


def parse_participant_segment(segment: str) -> ParticipantId:
    """``iso6523-actorid-upis::0088:123`` in any case and percent-encoding
    (``%3A%3A``, ``%3a``, ``%253A``); the bare ``0088:123`` is accepted too."""
    text = _decode(segment)
    scheme, sep, value = text.rpartition("::")
    if sep and scheme.lower() != PARTICIPANT_SCHEME:
        raise InvalidIdentifier(
            f"{text!r}: participant scheme {scheme!r} is not {PARTICIPANT_SCHEME!r}"
        )
    return ParticipantId.parse(value)


def parse_doctype_segment(segment: str) -> str:
    """The document type value of ``busdox-docid-qns::<value>``. The scheme is
    case-insensitive, the value is not (Policy for use of Identifiers)."""
    text = _decode(segment)
    scheme, sep, value = text.partition("::")
    if not sep or scheme.lower() != DOCTYPE_SCHEME or not value.strip():
        raise InvalidIdentifier(f"{text!r} is not a {DOCTYPE_SCHEME}::<value> document type id")
    return value.strip()


def participant_segment(pid: ParticipantId) -> str:
    """The canonical form for URLs: every reserved character percent-encoded."""
    return quote(pid.uri, safe="")


def doctype_segment(doctype: str) -> str:
    # "#" must be encoded: a raw one would start the URL's fragment.
    return quote(f"{DOCTYPE_SCHEME}::{doctype}", safe="")


def participant_path_forms(pid: ParticipantId) -> tuple[str, ...]:
    """The spellings of one participant that clients put in SMP URLs."""
    canonical = participant_segment(pid)
    shouting = f"{PARTICIPANT_SCHEME.upper()}::{pid.scheme}:{pid.value.upper()}"
    return (
        pid.uri,
        pid.uri.replace("::", "%3A%3A"),
        canonical,
        canonical.replace("%3A", "%3a"),
        quote(shouting, safe=""),
        quote(canonical, safe=""),
    )


def doctype_path_forms(doctype: str) -> tuple[str, ...]:
    """The spellings of one document type that clients put in SMP URLs."""
    canonical = doctype_segment(doctype)
    raw = f"{DOCTYPE_SCHEME}::{doctype}".replace("#", "%23")
    return (
        raw,
        canonical,
        canonical.replace("%3A", "%3a"),
        quote(f"{DOCTYPE_SCHEME.upper()}::{doctype}", safe=""),
        quote(canonical, safe=""),
    )


def service_url(smp_base: str, pid: ParticipantId, doctype: str) -> str:
    """Where the SignedServiceMetadata of ``pid`` for ``doctype`` is, in canonical form."""
    base = smp_base.rstrip("/")
    return f"{base}/{participant_segment(pid)}/services/{doctype_segment(doctype)}"


def sml_label(value: str) -> str:
    """``strip-trailing(base32(sha256(lowercase(value))), "=")``, lower-cased
    (Policy for use of Identifiers 4.x, POLICY 7; SML U-NAPTR)."""
    digest = hashlib.sha256(value.lower().encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def sml_name(pid: ParticipantId, zone: str) -> str:
    """The DNS name whose U-NAPTR record (service ``Meta:SMP``) gives the SMP.

    The hashed value is the identifier value ``ICD:value`` without the scheme;
    the scheme is its own label. CNAME/MD5 names are no longer used.
    """
    return f"{sml_label(str(pid))}.{PARTICIPANT_SCHEME}.{zone.strip('.').lower()}"
