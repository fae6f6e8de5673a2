"""The Peppol Business Message Envelope: build, read back, tolerate, refuse."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.as4 import sbdh
from gateway.as4.errors import InvalidEnvelope
from gateway.as4.ns import SBDH
from tests.as4.helpers import BUYER, DOCTYPE, PROCESS, SELLER, envelope, invoice


def test_round_trip_keeps_every_field_and_the_document_bytes() -> None:
    """An envelope wrapped and unwrapped keeps every header field (extra scopes too) and the
    document's bytes after the prolog."""
    h = envelope(extra_scopes=(("MLS_TO", "0242:000001"), ("MLS_TYPE", "ALWAYS_SEND")))
    doc = invoice()
    got, inner = sbdh.unwrap(sbdh.wrap(h, doc))
    assert got == h
    assert inner == bytes(sbdh.strip_prolog(doc)).lstrip()


def test_envelope_has_the_peppol_scopes_and_identifiers() -> None:
    """The envelope we write has the Peppol header version, sender authority, standard, type,
    version and scopes, and the document as the second child."""
    root = etree.fromstring(sbdh.wrap(envelope(), invoice()))
    ns = {"sh": SBDH}
    assert (
        root.findtext("sh:StandardBusinessDocumentHeader/sh:HeaderVersion", namespaces=ns) == "1.0"
    )
    sender = root.find("sh:StandardBusinessDocumentHeader/sh:Sender/sh:Identifier", ns)
    assert sender is not None
    assert (sender.text, sender.get("Authority")) == (str(SELLER), "iso6523-actorid-upis")
    ident = root.find("sh:StandardBusinessDocumentHeader/sh:DocumentIdentification", ns)
    assert ident is not None
    assert ident.findtext("sh:Standard", namespaces=ns) == (
        "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    )
    assert ident.findtext("sh:Type", namespaces=ns) == "Invoice"
    assert ident.findtext("sh:TypeVersion", namespaces=ns) == "2.1"
    scopes = {
        s.findtext("sh:Type", namespaces=ns): (
            s.findtext("sh:InstanceIdentifier", namespaces=ns),
            s.findtext("sh:Identifier", namespaces=ns),
        )
        for s in root.iterfind(".//sh:Scope", ns)
    }
    assert scopes == {
        "DOCUMENTID": (DOCTYPE, "busdox-docid-qns"),
        "PROCESSID": (PROCESS, "cenbii-procid-ubl"),
        "COUNTRY_C1": ("DK", None),
    }
    # The document is the SBD's second child, its own namespace untouched.
    inner = [el for el in root[1:] if isinstance(el.tag, str)]
    assert [etree.QName(el).localname for el in inner] == ["Invoice"]


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_unwrapper_reads_any_chunking(chunk: int) -> None:
    """The streaming unwrapper reads the envelope fed in chunks of 1, 7 or 4096 bytes."""
    data = sbdh.wrap(envelope(), invoice())
    reader = sbdh.Unwrapper(max_bytes=len(data))
    for at in range(0, len(data), chunk):
        reader.write(data[at : at + chunk])
    h, doc = reader.finish()
    assert h.receiver == str(BUYER)
    assert doc.startswith(b"<!-- Sample") and doc.endswith(b"</Invoice>")


def test_foreign_envelope_with_default_namespace_and_scheme_in_values() -> None:
    """A foreign envelope with a default namespace and scheme prefixes in the ids is read, and
    the document inherits namespaces declared on the envelope."""
    env = f"""<?xml version="1.0"?>
<StandardBusinessDocument xmlns="{SBDH}" xmlns:cbc="urn:cbc">
 <StandardBusinessDocumentHeader>
  <HeaderVersion>1.0</HeaderVersion>
  <Sender><Identifier Authority="iso6523-actorid-upis"
    >iso6523-actorid-upis::0088:1</Identifier></Sender>
  <Receiver><Identifier Authority="iso6523-actorid-upis">0088:2</Identifier></Receiver>
  <DocumentIdentification><Standard>s</Standard><TypeVersion>2.1</TypeVersion>
   <InstanceIdentifier>abc</InstanceIdentifier><Type>Invoice</Type>
   <CreationDateAndTime>2026-01-01T10:00:00</CreationDateAndTime></DocumentIdentification>
  <BusinessScope>
   <Scope><Type>DOCUMENTID</Type><InstanceIdentifier>{DOCTYPE}</InstanceIdentifier></Scope>
   <Scope><Type>PROCESSID</Type><InstanceIdentifier>{PROCESS}</InstanceIdentifier></Scope>
   <Scope><Type>COUNTRY_C1</Type><InstanceIdentifier>NO</InstanceIdentifier></Scope>
  </BusinessScope>
 </StandardBusinessDocumentHeader>
 <Invoice xmlns="urn:inv"><cbc:ID>1</cbc:ID></Invoice>
</StandardBusinessDocument>
""".encode()
    h, doc = sbdh.unwrap(env)
    assert (h.sender, h.receiver, h.country_c1, h.instance_id) == ("0088:1", "0088:2", "NO", "abc")
    assert h.document_type_scheme == "busdox-docid-qns"
    # cbc was declared on the envelope's root: the document gets it, and parses alone.
    inner = etree.fromstring(doc)
    assert inner.findtext("{urn:cbc}ID") == "1"
    assert inner.tag == "{urn:inv}Invoice"


def test_prolog_is_stripped_and_other_encodings_refused() -> None:
    """The XML declaration and BOM are stripped from the document, and a declared non-UTF-8
    encoding is refused."""
    assert bytes(sbdh.strip_prolog(b'\xef\xbb\xbf<?xml version="1.0"?><a/>')) == b"<a/>"
    assert bytes(sbdh.strip_prolog(b"<?xml version='1.0' encoding='utf-8'?>\n<a/>")) == b"\n<a/>"
    with pytest.raises(ValueError, match="ISO-8859-1"):
        sbdh.strip_prolog(b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>')


def _replace(old: bytes, new: bytes) -> bytes:
    data = sbdh.wrap(envelope(), invoice())
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Invoice/>", "no SBDH header"),
        (_replace(b"<sh:Type>COUNTRY_C1</sh:Type>", b"<sh:Type>X</sh:Type>"), "COUNTRY_C1"),
        (_replace(b"<sh:Type>DOCUMENTID</sh:Type>", b"<sh:Type>X</sh:Type>"), "DOCUMENTID"),
        (_replace(b"</sh:StandardBusinessDocument>", b""), "does not end"),
        (_replace(b"<sh:Sender>", b"<sh:Sender><sh:X>"), "not well-formed"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]>' + _replace(b"", b""), "DOCTYPE"),
    ],
)
def test_bad_envelopes_are_refused(data: bytes, message: str) -> None:
    """Envelopes with no header, missing scopes, no end, broken XML or a DOCTYPE are refused
    saying why."""
    with pytest.raises(InvalidEnvelope, match=message):
        sbdh.unwrap(data)


def test_size_limit() -> None:
    """An envelope one byte over the size limit is refused."""
    data = sbdh.wrap(envelope(), invoice())
    with pytest.raises(InvalidEnvelope, match="limit"):
        sbdh.unwrap(data, max_bytes=len(data) - 1)


def test_document_type_parts() -> None:
    """A document type id splits into its standard, type and version; anything else is refused."""
    assert sbdh.document_type_parts(DOCTYPE) == (
        "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
        "Invoice",
        "2.1",
    )
    with pytest.raises(ValueError):
        sbdh.document_type_parts("not-a-doctype")
