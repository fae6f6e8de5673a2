"""Invoices and credit notes for tests: the project's sample documents with
the parties, number and size a test needs.

The samples are XSD-valid and raise no fatal rule; these builders change only
what their parameters name, so a document built here is valid unless a test
breaks it on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import os

from lxml import etree

from gateway.cli.scaffold import gln
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_bytes, sample_document
from gateway.validation.facts import BUYER_PARTY, NAMESPACES

# The parties of the in-process test network (conftest's ``network_dir``
# serves SELLER and BUYER; no network serves STRANGER).
SELLER = ParticipantId("0088", gln("5730000001"))
BUYER = ParticipantId("0088", gln("5730000002"))
STRANGER = ParticipantId("0088", gln("5730000099"))

Party = ParticipantId | str  # "0088:..." as the CLI and gateway.toml spell it


def _party(value: Party) -> ParticipantId:
    return value if isinstance(value, ParticipantId) else ParticipantId.parse(value)


def document(
    kind: DocumentKind = DocumentKind.INVOICE,
    *,
    seller: Party = SELLER,
    buyer: Party = BUYER,
    business_id: str | None = None,
) -> bytes:
    """The sample of ``kind`` from ``seller`` to ``buyer``; numbered
    ``business_id``, or the sample's own number (ABQ-2026-0147) without one."""
    return sample_document(
        kind, seller=_party(seller), buyer=_party(buyer), business_id=business_id
    )


def invoice(business_id: str = "INV-1", *, seller: Party = SELLER, buyer: Party = BUYER) -> bytes:
    """An invoice numbered ``business_id`` from ``seller`` to ``buyer``."""
    return document(DocumentKind.INVOICE, seller=seller, buyer=buyer, business_id=business_id)


def credit_note(
    business_id: str = "CN-1", *, seller: Party = SELLER, buyer: Party = BUYER
) -> bytes:
    """A credit note numbered ``business_id`` from ``seller`` to ``buyer``."""
    return document(DocumentKind.CREDIT_NOTE, seller=seller, buyer=buyer, business_id=business_id)


def as_foreign_consumer(body: bytes, country: str = "GB") -> bytes:
    """The same invoice, addressed to a private person abroad: the buyer's
    country changes and its VAT and company registrations go."""
    root = etree.fromstring(body)
    party = root.find(BUYER_PARTY, NAMESPACES)
    assert party is not None
    code = party.find("cac:PostalAddress/cac:Country/cbc:IdentificationCode", NAMESPACES)
    assert code is not None
    code.text = country
    for path in ("cac:PartyTaxScheme", "cac:PartyLegalEntity/cbc:CompanyID"):
        for element in party.findall(path, NAMESPACES):
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# --- large documents: an embedded attachment ---------------------------------

_ANCHOR = b"<cac:AccountingSupplierParty>"


def attach(xml: bytes, size: int) -> bytes:
    """``xml`` (a UBL document) with an embedded base64 "PDF" making it about ``size``
    bytes; the same bytes on every call, and still XSD-valid."""
    raw = b"".join(
        hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size * 3 // 4 // 32 + 1)
    )
    reference = (
        b"<cac:AdditionalDocumentReference><cbc:ID>ATT-1</cbc:ID>"
        b"<cbc:DocumentDescription>Signed delivery note</cbc:DocumentDescription>"
        b'<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" '
        b'filename="delivery-note.pdf">'
        + base64.b64encode(raw)
        + b"</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>"
        b"</cac:AdditionalDocumentReference>\n  "
    )
    return xml.replace(_ANCHOR, reference + _ANCHOR, 1)


def with_attachment(kind: DocumentKind, size: int) -> bytes:
    """The sample as shipped with an embedded base64 "PDF" making it about ``size`` bytes."""
    return attach(sample_bytes(kind), size)


def big_invoice(size: int) -> bytes:
    """An invoice of exactly ``size`` bytes, most of them a random attachment
    (random, so no layer can shrink it by compression)."""
    doc = invoice()
    anchor = doc.index(_ANCHOR)
    head = (
        b"<cac:AdditionalDocumentReference><cbc:ID>att-1</cbc:ID><cac:Attachment>"
        b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="big.pdf">'
    )
    tail = b"</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
    room = size - len(doc) - len(head) - len(tail)
    blob = base64.b64encode(os.urandom(room * 3 // 4 + 3))[:room]
    return b"".join((doc[:anchor], head, blob, tail, doc[anchor:]))
