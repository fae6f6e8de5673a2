"""Multipart/related: what we send is strict; what we accept is what real
senders produce."""

from __future__ import annotations

import base64
import os

import pytest

from gateway.as4 import mime
from gateway.as4.errors import MimeInconsistency

SOAP = b"<S12:Envelope xmlns:S12='http://www.w3.org/2003/05/soap-envelope'/>"
BLOB = os.urandom(3000) + b"\r\n--not-the-boundary\r\n" + os.urandom(100)


def test_build_then_parse() -> None:
    """A multipart we build parses back to the same SOAP root and binary attachment."""
    ctype, chunks = mime.build(
        SOAP, [("att@x", "application/octet-stream", BLOB)], boundary="b-1", root_id="root@x"
    )
    parsed = mime.parse(ctype, b"".join(chunks))
    assert bytes(parsed.root.content) == SOAP
    assert parsed.root.media_type == "application/soap+xml"
    part = parsed.attachment("cid:att@x")
    assert part is not None and bytes(part.content) == BLOB


def _body(
    *,
    boundary: str = "MIME_b",
    eol: bytes = b"\r\n",
    preamble: bytes = b"",
    attachment_headers: bytes = b"Content-Type: application/octet-stream\r\nContent-ID: <att@x>",
    attachment: bytes = BLOB,
    root_first: bool = True,
) -> bytes:
    d = b"--" + boundary.encode()
    root = d + eol + b"Content-Type: application/soap+xml; charset=UTF-8" + eol
    root += b"Content-ID: <root@x>" + eol + eol + SOAP + eol
    att = d + eol + attachment_headers.replace(b"\r\n", eol) + eol + eol + attachment + eol
    parts = root + att if root_first else att + root
    return preamble + parts + d + b"--" + eol


VARIANTS = {
    "plain": ('multipart/related; boundary="MIME_b"; type="application/soap+xml"', {}),
    "unquoted, reordered, upper case": (
        'Multipart/Related;TYPE=application/soap+xml;  Boundary=MIME_b ; start="<root@x>"',
        {},
    ),
    "start param picks the root wherever it is": (
        'multipart/related; start="<root@x>"; boundary="MIME_b"',
        {"root_first": False},
    ),
    "bare LF line ends": ('multipart/related; boundary="MIME_b"', {"eol": b"\n"}),
    "headers repeated before the first boundary": (
        'multipart/related; boundary="MIME_b"',
        {
            "preamble": b'Content-Type: multipart/related; boundary="MIME_b"\r\n'
            b"MIME-Version: 1.0\r\n\r\n"
        },
    ),
    "boundary only in the repeated headers": (
        "multipart/related",
        {"preamble": b'Content-Type: multipart/related; boundary="MIME_b"\r\n\r\n'},
    ),
    "base64 attachment with line breaks": (
        'multipart/related; boundary="MIME_b"',
        {
            "attachment_headers": b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: BASE64\r\nContent-ID: <att@x>",
            "attachment": base64.encodebytes(BLOB).replace(b"\n", b"\r\n"),
        },
    ),
    "folded header and bracket-less Content-ID": (
        'multipart/related; boundary="MIME_b"',
        {
            "attachment_headers": b"Content-Type: application/octet-stream;\r\n"
            b'\tname="x.bin"\r\nContent-ID: att@x'
        },
    ),
    "quoted boundary with special characters": (
        'multipart/related; boundary="----=_Part_7_1.2"',
        {"boundary": "----=_Part_7_1.2"},
    ),
    "application/soap+xml body without attachments is refused later, not here": (
        "application/soap+xml; charset=utf-8",
        {},
    ),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_tolerated_variants(name: str) -> None:
    """Multiparts as real senders write them (reordered or unquoted parameters, bare LF, repeated
    headers, base64, folded headers, special boundaries, plain SOAP) are read."""
    ctype, kwargs = VARIANTS[name]
    body = _body(**kwargs)  # type: ignore[arg-type]
    parsed = mime.parse(ctype, body)
    if ctype.startswith("application/soap+xml"):
        assert bytes(parsed.root.content) == body and not parsed.attachments
        return
    assert bytes(parsed.root.content) == SOAP
    part = parsed.attachment("cid:att%40x")  # RFC 2392: cid URLs are %-encoded
    assert part is not None and bytes(part.content) == BLOB


def test_binary_part_is_a_view_not_a_copy() -> None:
    """A binary attachment is read as a view into the request body, not a copy."""
    body = _body()
    part = mime.parse('multipart/related; boundary="MIME_b"', body).attachment("cid:att@x")
    assert part is not None and isinstance(part.content, memoryview)
    assert part.content.obj is body


@pytest.mark.parametrize(
    ("ctype", "body", "message"),
    [
        ("multipart/related", _body(), "boundary"),
        ('multipart/related; boundary="other"', _body(), "no part"),
        ('multipart/related; boundary="MIME_b"', _body()[:-12], "closing delimiter"),
        ("text/html", b"<html/>", "neither multipart"),
        (
            'multipart/related; boundary="MIME_b"; start="<nope@x>"',
            _body(),
            "start Content-ID",
        ),
        (
            'multipart/related; boundary="MIME_b"',
            _body(attachment_headers=b"Content-Type: application/octet-stream"),
            "no Content-ID",
        ),
        (
            'multipart/related; boundary="MIME_b"',
            _body(attachment_headers=b"Content-Transfer-Encoding: x-uue\r\nContent-ID: <att@x>"),
            "Content-Transfer-Encoding",
        ),
    ],
)
def test_broken_mime_is_refused(ctype: str, body: bytes, message: str) -> None:
    """A multipart without a boundary, without parts, unterminated, of another type, with an
    unknown start, without Content-ID or with an unknown encoding is refused saying why."""
    with pytest.raises(MimeInconsistency, match=message):
        mime.parse(ctype, body)


def test_parse_content_type_unescapes_quoted_values() -> None:
    """Content-Type parameters are read case-insensitively, with quoted values unescaped and
    semicolons inside quotes kept."""
    media, params = mime.parse_content_type(r'Multipart/Related; A="x\"y"; b = c ;C="d;e"')
    assert media == "multipart/related"
    assert params == {"a": 'x"y', "b": "c", "c": "d;e"}
