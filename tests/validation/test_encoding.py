"""The encoding decision on its own: the cases the HTTP tests do not reach."""

from __future__ import annotations

import codecs

import pytest

from gateway.validation.encoding import UnsupportedEncoding, require_utf8

CHUNK = 1024 * 1024


def test_a_character_split_across_chunks_is_still_utf8() -> None:
    """A UTF-8 character split across the checker's chunk boundary is accepted."""
    # "é" is two bytes; put its first byte last in the first chunk.
    body = b"<a>" + b"x" * (CHUNK - 4) + "é".encode() + b"</a>"
    assert body[CHUNK - 1 : CHUNK + 1] == "é".encode()
    require_utf8(body)


def test_a_bad_byte_deep_in_a_large_document_is_found_where_it_is() -> None:
    """A non-UTF-8 byte deep in a large document is refused naming that byte and its offset."""
    body = b"<a>" + "é".encode() + b"x" * (3 * CHUNK) + b"\xe9</a>"
    with pytest.raises(UnsupportedEncoding, match=f"byte 0xE9 at offset {len(body) - 5}"):
        require_utf8(body)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (codecs.BOM_UTF32_LE + "<a/>".encode("utf-32-le"), "UTF-32 (little-endian, with"),
        ("<a/>".encode("utf-32-be"), "UTF-32 (big-endian, without"),
        (" \n<a/>".encode("utf-16-le"), "UTF-16 or UTF-32"),
        (b"<?xml version='1.0' encoding = \"EBCDIC-CP-US\" ?><a/>", "declared as EBCDIC-CP-US"),
    ],
)
def test_other_encodings_are_named(body: bytes, named: str) -> None:
    """UTF-32 (with or without BOM), UTF-16 without a BOM, and a declared EBCDIC document are
    refused with 415 naming the encoding."""
    with pytest.raises(UnsupportedEncoding, match=named.replace("(", r"\(")) as refused:
        require_utf8(body)
    assert refused.value.http_status == 415


@pytest.mark.parametrize(
    "body",
    [
        b"<?xml version='1.0' encoding='us-ascii'?><a/>",
        b'<?xml version="1.0" encoding="utf8"?><a/>',
        b"<?xml version='1.0'?><a>\xe2\x82\xac</a>",
        codecs.BOM_UTF8 + b"<a/>",
    ],
)
def test_utf8_in_its_spellings_is_accepted(body: bytes) -> None:
    """Documents declared us-ascii or utf8, undeclared with multibyte text, or with a UTF-8 BOM
    are accepted."""
    require_utf8(body)
