"""Documents in another encoding than UTF-8 are refused at intake, naming the
encoding, over the real sender API: they could never be sent to a peer as
they are (the Peppol envelope carries them inline, in UTF-8), and accepting
them used to end in a misleading delivery failure."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import pytest

from gateway.as4 import sbdh
from gateway.model import BIS3_DOCUMENT_TYPES, BIS3_PROCESS
from tests.conftest import BUYER, SELLER, Api, invoice

DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>"


def _text(number: str) -> str:
    # Non-ASCII letters and the euro sign: what a real invoice carries.
    body = invoice(number).decode("utf-8")
    return body.replace("Camille Bressand", "Zoë Müller-Dupré").replace(
        "Hinges and fitting", "Hinges (€ 12 each) and fitting"
    )


def _declared(text: str, label: str) -> str:
    return text.replace(DECLARATION.decode(), f"<?xml version='1.0' encoding='{label}'?>", 1)


def _latin1() -> bytes:
    return _declared(_text("INV-L1").replace("€", "EUR"), "ISO-8859-1").encode("latin-1")


def _undeclared_latin1() -> bytes:
    return _text("INV-L1U").replace("€", "EUR").replace(DECLARATION.decode(), "").encode("latin-1")


def _cp1252() -> bytes:
    return _declared(_text("INV-1252"), "windows-1252").encode("cp1252")


def _utf16_bom() -> bytes:
    return _declared(_text("INV-16B"), "UTF-16").encode("utf-16")  # with a BOM


def _utf16_no_bom() -> bytes:
    return _declared(_text("INV-16N"), "UTF-16").encode("utf-16-le")


def _utf16_be_bom() -> bytes:
    return codecs.BOM_UTF16_BE + _declared(_text("INV-16BE"), "UTF-16").encode("utf-16-be")


REFUSED = {
    "ISO-8859-1": (_latin1, "declared as ISO-8859-1"),
    "undeclared latin-1 bytes": (_undeclared_latin1, "byte 0xEB at offset"),
    "windows-1252": (_cp1252, "declared as windows-1252"),
    "UTF-16 LE with BOM": (_utf16_bom, "UTF-16 (little-endian, with a byte order mark)"),
    "UTF-16 LE without BOM": (_utf16_no_bom, "UTF-16 (little-endian, without a byte order mark)"),
    "UTF-16 BE with BOM": (_utf16_be_bom, "UTF-16 (big-endian, with a byte order mark)"),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_document_not_in_utf8_is_refused_naming_its_encoding(api: Api, case: str) -> None:
    """A document in Latin-1, windows-1252 or UTF-16 (declared or not, with or without BOM) gets
    415 unsupported_encoding naming its encoding and UTF-8, and nothing is stored or queued."""
    make, named = REFUSED[case]
    resp = await api.client.post("/api/v1/documents", data=make(), headers=api.auth())
    answer = await resp.json()
    assert resp.status == 415, answer
    assert answer["error"] == "unsupported_encoding"
    assert named in answer["message"] and "UTF-8" in answer["message"]
    assert await api.gw.store.count_documents() == 0
    assert await api.gw.store.outbox_depth() == 0


ACCEPTED = {
    "plain UTF-8": lambda: _text("INV-U8").encode("utf-8"),
    "UTF-8 with a BOM": lambda: codecs.BOM_UTF8 + _text("INV-U8B").encode("utf-8"),
    "UTF-8 without a declaration": lambda: (
        _text("INV-U8N").replace(DECLARATION.decode(), "").encode("utf-8")
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
async def test_a_utf8_document_is_accepted_and_can_be_packaged(api: Api, case: str) -> None:
    """A UTF-8 document (plain, with BOM, or without declaration) gets 202 and survives being
    wrapped in and unwrapped from a Peppol envelope with its non-ASCII text intact."""
    body = ACCEPTED[case]()
    resp = await api.client.post("/api/v1/documents", data=body, headers=api.auth())
    answer = await resp.json()
    assert resp.status == 202, answer
    # What was accepted goes into a Peppol envelope as it is, and stays whole.
    envelope = sbdh.Sbdh(
        sender=str(SELLER),
        receiver=str(BUYER),
        document_type=BIS3_DOCUMENT_TYPES[0],
        process=BIS3_PROCESS,
        country_c1="DK",
        instance_id="8a8f7c1e-0000-4000-8000-000000000001",
        created_at=datetime.now(UTC),
    )
    _, document = sbdh.unwrap(sbdh.wrap(envelope, body))
    assert "Zoë Müller-Dupré".encode() in document
