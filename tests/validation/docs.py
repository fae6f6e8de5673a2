"""Hostile documents the validation tests feed in: entity bombs, external
entities, deep and wide trees, attribute floods. Valid documents to start
from are ``tests.builders``'."""

from __future__ import annotations

import itertools
import string

from gateway.model import DocumentKind
from gateway.samples import sample_bytes

# Ten levels of ten-fold expansion: 10^9 "lol"s if a parser expanded them.
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n'
        % (i, (b"&lol%s;" % (str(i - 1).encode() if i > 1 else b"")) * 10)
        for i in range(1, 10)
    )
    + b']>\n<lolz a="&lol9;">&lol9;</lolz>'
)

# One big entity referenced many times: quadratic, not exponential, blow-up.
QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><r>'
    + b"&a;" * 5_000
    + b"</r>"
)


def xxe(system_url: str) -> bytes:
    """An Invoice whose content is an external entity."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "'
        + system_url.encode()
        + b'">]>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
        b"&x;</Invoice>"
    )


def parameter_entity(system_url: str) -> bytes:
    """A parameter entity pulled into the DTD itself (the out-of-band XXE trick)."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "'
        + system_url.encode()
        + b'"> %p;]>\n<r/>'
    )


def external_dtd(system_url: str) -> bytes:
    return b'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "' + system_url.encode() + b'">\n<r/>'


def nested(depth: int) -> bytes:
    """A root and its descendants, ``depth`` elements deep in all."""
    return b"<a>" * depth + b"</a>" * depth


def flat(elements: int) -> bytes:
    """A root with ``elements - 1`` empty children."""
    return b"<a>" + b"<b/>" * (elements - 1) + b"</a>"


def utf16(data: bytes) -> bytes:
    """The same document in UTF-16 (with BOM and a matching declaration)."""
    text = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    return text.encode("utf-16")


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1, f"{old!r} not in the document"
    return data.replace(old, new, 1)


def attributes(count: int, *, names: int = 4) -> bytes:
    """``count`` distinct attributes ' aaaa=""', ' aaab=""', ... (short names)."""
    letters = string.ascii_letters.encode()
    spelled = itertools.islice(itertools.product(letters, repeat=names), count)
    return b"".join(b' %s=""' % bytes(name) for name in spelled)


def many_attributes(count: int) -> bytes:
    """The sample invoice with ``count`` attributes on one element (8 MB for
    a million: the document of issue #9)."""
    return replace_once(
        sample_bytes(DocumentKind.INVOICE), b"<cbc:Note>", b"<cbc:Note" + attributes(count) + b">"
    )
