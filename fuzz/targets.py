"""The fuzz targets: bytes in, AssertionError out when a reader breaks a promise.

A reader may refuse its input only with a ``GatewayError`` (which the edges
turn into an HTTP status or a signed ebMS error); any other exception would
be a 500, a crashed request or a log full of tracebacks. The signed-message
target also checks integrity: a message whose bytes were changed is either
refused, or yields exactly the document that was signed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from fuzz import seeds
from gateway.as4 import inbound, mime, sbdh
from gateway.config.settings import LimitSettings
from gateway.errors import GatewayError
from gateway.service.intake import check_document

# Small limits keep each run short; the readers' logic does not depend on them.
LIMITS = LimitSettings(max_document_bytes=2 * 1024 * 1024, max_depth=64, max_elements=20_000)


class Broken(AssertionError):
    """A reader broke its promise on this input."""


def _refusal_only(read: Callable[[], object], what: str) -> object | None:
    try:
        return read()
    except GatewayError:
        return None
    except Exception as exc:  # the finding itself: say what escaped
        raise Broken(f"{what} raised {type(exc).__name__}: {exc}") from exc


def mime_reader(data: bytes) -> None:
    """The multipart/related reader of /as4, with the seed's Content-Type."""
    ctype, _ = seeds.multipart()
    _refusal_only(lambda: mime.parse(ctype, data), "mime.parse")
    # The Content-Type header comes from the peer too.
    head = data[:200].decode("latin-1")
    _refusal_only(lambda: mime.parse(head, data[200:]), "mime.parse (fuzzed Content-Type)")


def sbdh_reader(data: bytes) -> None:
    """The SBDH envelope reader (header fields and the document inside)."""
    got = _refusal_only(lambda: sbdh.unwrap(data, max_bytes=LIMITS.max_document_bytes), "unwrap")
    if got is not None:
        header, document = got  # type: ignore[misc]
        if not document.startswith(b"<"):
            raise Broken("unwrap returned a document that is not XML")
        if not header.receiver or not header.document_type:
            raise Broken("unwrap returned a header without receiver or document type")


def signed_message(data: bytes) -> None:
    """The whole /as4 reader: MIME, SOAP, WS-Security, decryption, SBDH.

    The input is a complete request body (the seed is a valid one). Whatever
    was changed, the reader either refuses, or returns the very document the
    sender signed: no change may slip through the signature.
    """
    ctype, _ = seeds.signed_request()
    got = _refusal_only(lambda: read_signed(ctype, data), "inbound.read_request")
    if got is None:
        return
    assert isinstance(got, inbound.Received)
    first = _first_reading()
    if got.document != first.document:
        raise Broken("a changed message was accepted with a different document")
    if got.envelope != first.envelope:
        raise Broken("a changed message was accepted with a different SBDH header")
    if got.user_message != first.user_message:
        raise Broken("a changed message was accepted with a different ebMS header")


@functools.cache
def _first_reading() -> inbound.Received:
    """What the reader makes of the unchanged seed: the reference."""
    ctype, original = seeds.signed_request()
    return read_signed(ctype, original)


def read_signed(ctype: str, data: bytes) -> inbound.Received:
    """The /as4 reader as the seed's receiver runs it (the attack tests use it too)."""
    k = seeds.keys()
    return inbound.read_request(
        ctype,
        data,
        key=k.receiver_key,
        cert=k.receiver[1],
        party_id=seeds.RECEIVER_AP,
        trust=k.trust(),
        max_document_bytes=LIMITS.max_document_bytes,
    )


def document_reader(data: bytes) -> None:
    """What the sender API and /as4 do with a business document: the hardened
    parse, the root check, the UBL XSD, the rules and the routing facts."""
    _refusal_only(lambda: check_document(data, LIMITS), "check_document")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "mime": mime_reader,
    "sbdh": sbdh_reader,
    "wssec": signed_message,
    "document": document_reader,
}


def seed_inputs(name: str) -> list[bytes]:
    """The valid inputs each target starts from."""
    if name == "mime":
        return [seeds.multipart()[1]]
    if name == "sbdh":
        return [seeds.sbdh_envelope()]
    if name == "wssec":
        return [seeds.signed_request()[1]]
    if name == "document":
        return [seeds.invoice()]
    raise KeyError(name)
