"""The invoice as HTML, for the recipient portal's document page.

A placeholder until the full rendering (parties, lines, VAT breakdown,
totals, payment details) lands: it shows the document's number, escaped
like every value taken from a document.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from gateway.config.settings import LimitSettings
from gateway.errors import InputError
from gateway.validation.parse import parse_xml

_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def invoice_html(payload: bytes, limits: LimitSettings) -> Markup:
    """An HTML fragment showing the document (escaped)."""
    try:
        root = parse_xml(payload, limits)
    except InputError as exc:
        return Markup("<p>{}</p>").format(str(exc))
    number = root.findtext(f"{{{_CBC}}}ID") or ""
    return Markup('<h2 class="invoice-number">{}</h2>').format(escape(number))
