"""The character encoding of a document, decided once, at intake.

Only UTF-8 is accepted (with or without a byte order mark); anything else is
refused with a 415 naming the encoding, before it is validated or stored.

Why UTF-8 only: the Peppol Business Message Envelope carries the document
inline, as the element after the SBDH header of one XML document, so the
document's bytes must be in the envelope's encoding; our envelope, like
every Peppol envelope we have seen, is UTF-8, and the document's own XML
declaration cannot survive inside it (``gateway.as4.sbdh.strip_prolog``).
A document in ISO-8859-1, windows-1252 or UTF-16 therefore cannot be sent
as it was received.

Why refuse rather than re-encode: re-encoding changes the bytes, which
breaks any XML signature inside the document (a signed invoice is a legal
original in several countries) and any hash the sender kept as proof of
what it sent; and a converted document is one the sender never saw. The
sender's system can write UTF-8, so it is told to.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import codecs
import re

from gateway.errors import UnsupportedMediaType

# Spellings of encodings whose bytes are UTF-8 as they stand (ASCII is a
# subset). Compared case-insensitively, as XML 1.0 §4.3.3 says.
UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})

# Byte order marks, longest first: the UTF-32 LE mark starts with UTF-16 LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian, with a byte order mark)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian, with a byte order mark)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian, with a byte order mark)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian, with a byte order mark)"),
)
# "<" (or "<?") without a mark, as XML 1.0 Appendix F lists them.
_UNMARKED = (
    (b"\x3c\x00\x00\x00", "UTF-32 (little-endian, without a byte order mark)"),
    (b"\x00\x00\x00\x3c", "UTF-32 (big-endian, without a byte order mark)"),
    (b"\x3c\x00", "UTF-16 (little-endian, without a byte order mark)"),
    (b"\x00\x3c", "UTF-16 (big-endian, without a byte order mark)"),
)
_DECLARATION = re.compile(rb"<\?xml\s[^>]{0,400}?encoding\s*=\s*[\"']([^\"']{0,64})[\"']")
_CHUNK = 1024 * 1024
_ADVICE = "Peppol documents travel in UTF-8: save or export the document as UTF-8 and send it again"


class UnsupportedEncoding(UnsupportedMediaType):
    """The document is not in UTF-8 (HTTP 415; ebMS EBMS:0004 for a peer)."""

    code = "unsupported_encoding"


def require_utf8(data: bytes) -> None:
    """Raise UnsupportedEncoding unless ``data`` is UTF-8 (a UTF-8 BOM is allowed)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            _refuse(name, name)
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    head = data[start : start + 512]  # a slice, not a copy of the document
    for mark, name in _UNMARKED:
        if head.startswith(mark):
            _refuse(name, name)
    if b"\x00" in head[:64]:  # "<" after whitespace, in a two- or four-byte encoding
        _refuse("UTF-16 or UTF-32", "in UTF-16 or UTF-32 (NUL bytes at its start)")
    declared = _DECLARATION.match(head)
    if declared is not None:
        label = declared.group(1).decode("ascii", "replace").strip()
        if label.lower() not in UTF8_NAMES:
            _refuse(label, f"declared as {label} in its XML declaration")
    _check_utf8_bytes(data)  # a UTF-8 BOM is itself valid UTF-8


def _check_utf8_bytes(data: bytes) -> None:
    """Declared UTF-8 or undeclared (UTF-8 by XML's default), the bytes must
    be UTF-8. Decoded in chunks: a large document costs no copy of itself."""
    if data.isascii():  # the common case, at memory speed
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for at in range(0, len(view), _CHUNK):
        try:
            decoder.decode(view[at : at + _CHUNK], final=at + _CHUNK >= len(view))
        except UnicodeDecodeError as exc:
            offset = at + exc.start
            byte = data[offset]
            _refuse(
                "not UTF-8",
                f"not UTF-8: byte 0x{byte:02X} at offset {offset} is not valid UTF-8 "
                "(a single byte like this usually means ISO-8859-1 or windows-1252)",
            )


def _refuse(encoding: str, what: str) -> None:
    raise UnsupportedEncoding(f"the document is {what}. {_ADVICE}", encoding=encoding)
