"""Sample Peppol BIS Billing 3.0 documents for tests, demos and smoke checks.

``invoice.xml`` and ``creditnote.xml`` were written for this project
(fictional parties, GLN endpoints with valid check digits). They are UBL 2.1
XSD-valid and raise no fatal EN 16931 or Peppol BIS (release 2026.5) rule.
"""

from __future__ import annotations

import importlib.resources

from lxml import etree

from gateway.config.settings import LimitSettings
from gateway.model import DocumentKind, ParticipantId
from gateway.validation.facts import BUYER_PARTY, NAMESPACES, SELLER_PARTY
from gateway.validation.parse import parse_xml

_FILES = {DocumentKind.INVOICE: "invoice.xml", DocumentKind.CREDIT_NOTE: "creditnote.xml"}


def sample_bytes(kind: DocumentKind) -> bytes:
    """The sample exactly as shipped."""
    return importlib.resources.files("gateway.samples").joinpath(_FILES[kind]).read_bytes()


def sample_document(
    kind: DocumentKind,
    *,
    seller: ParticipantId,
    buyer: ParticipantId,
    business_id: str | None = None,
) -> bytes:
    """The sample with the seller's and buyer's EndpointID (value and schemeID)
    and optionally its cbc:ID replaced.

    The result stays XSD-valid for any ids. Peppol rules check some schemes'
    formats (a GLN's check digit, a Swedish or Norwegian organisation
    number...), so ids that break those give rule findings, not XSD errors.
    """
    root = parse_xml(sample_bytes(kind), LimitSettings())
    _set_endpoint(root, SELLER_PARTY, seller)
    _set_endpoint(root, BUYER_PARTY, buyer)
    if business_id is not None:
        if not business_id.strip():
            raise ValueError("business_id must not be empty")
        _element(root, "cbc:ID").text = business_id
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _set_endpoint(root: etree._Element, party: str, pid: ParticipantId) -> None:
    endpoint = _element(root, f"{party}/cbc:EndpointID")
    endpoint.text = pid.value
    endpoint.set("schemeID", pid.scheme)


def _element(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NAMESPACES)
    if found is None:  # only if someone edits the sample files
        raise LookupError(f"sample has no {path}")
    return found
