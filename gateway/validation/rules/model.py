"""The document model the native rules read: built in one walk, then shared.

``Doc.index`` maps every element (and attribute) path, relative to the root
and written with the usual UBL prefixes (``cac:InvoiceLine/cbc:ID``,
``cbc:ID/@schemeID``), to the nodes at that path in document order. Most
rules are then dictionary look-ups instead of XPath queries; rules about one
line or one allowance read relative paths with ``Doc.rel`` on that element.

Invoice and CreditNote share one model: the root is not part of any path,
and ``Doc.line`` / ``Doc.quantity`` give the names that differ between them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from lxml import etree

from gateway.model import DocumentKind

CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
EXT: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
NS: Final = {"cbc": CBC, "cac": CAC, "ext": EXT}
_PREFIX: Final = {CBC: "cbc", CAC: "cac", EXT: "ext"}

Element = etree._Element
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def qname(tag: str) -> str:
    """``{ns}local`` -> ``cbc:local`` for the UBL namespaces, else unchanged."""
    if tag[:1] != "{":
        return tag
    ns, _, local = tag[1:].partition("}")
    prefix = _PREFIX.get(ns)
    return f"{prefix}:{local}" if prefix else tag


class Doc:
    """One parsed UBL document, indexed once. Read-only for rules."""

    __slots__ = ("cache", "index", "kind", "line", "quantity", "root", "type_code")

    def __init__(self, root: Element, kind: DocumentKind) -> None:
        self.root = root
        self.kind = kind
        invoice = kind is DocumentKind.INVOICE
        self.line = "cac:InvoiceLine" if invoice else "cac:CreditNoteLine"
        self.quantity = "cbc:InvoicedQuantity" if invoice else "cbc:CreditedQuantity"
        self.type_code = "cbc:InvoiceTypeCode" if invoice else "cbc:CreditNoteTypeCode"
        self.index: dict[str, list[Element]] = {}
        # Values derived once and shared by several rules (sums, totals, ...),
        # keyed by a name the family module chooses ("core.line_net_sum").
        self.cache: dict[str, Any] = {}
        self._walk(root, "")

    def _walk(self, parent: Element, base: str) -> None:
        index = self.index
        # Comments and processing instructions have a non-string tag: skip them.
        for child in parent.iterchildren("*"):
            path = base + qname(child.tag)
            found = index.get(path)
            if found is None:
                index[path] = [child]
            else:
                found.append(child)
            if child.attrib:
                for name in child.attrib:
                    apath = f"{path}/@{qname(str(name))}"
                    seen = index.get(apath)
                    if seen is None:
                        index[apath] = [child]
                    else:
                        seen.append(child)
            if len(child):
                self._walk(child, path + "/")

    # --- root-relative look-ups (dictionary hits) --------------------------

    def all(self, path: str) -> list[Element]:
        """Every element at ``path`` (for ``.../@attr`` paths: the elements carrying it)."""
        return self.index.get(path, [])

    def first(self, path: str) -> Element | None:
        found = self.index.get(path)
        return found[0] if found else None

    def has(self, path: str) -> bool:
        return path in self.index

    def text(self, path: str) -> str | None:
        """Text of the first element at ``path`` ('' when empty), None when absent."""
        found = self.index.get(path)
        return (found[0].text or "") if found else None

    def lines(self) -> list[Element]:
        return self.index.get(self.line, [])

    # --- element-relative look-ups ------------------------------------------

    @staticmethod
    def rel(element: Element, path: str) -> list[Element]:
        """Elements at a relative path under ``element`` (lxml ElementPath)."""
        return element.findall(path, NS)

    @staticmethod
    def rel_first(element: Element, path: str) -> Element | None:
        return element.find(path, NS)

    @staticmethod
    def rel_text(element: Element, path: str) -> str | None:
        found = element.find(path, NS)
        return None if found is None else (found.text or "")


def location(element: Element) -> str:
    """An XPath to the node, for reports: ``/*/cac:InvoiceLine[2]/cbc:ID``."""
    return str(element.getroottree().getpath(element))


def decimal(text: str | None) -> Decimal | None:
    """The xs:decimal value of a text, or None when it is not one.

    xs:decimal allows an optional sign, digits and one point, surrounding
    whitespace; no exponent, no 'NaN', no thousands separators.
    """
    if text is None:
        return None
    s = text.strip()
    if not _DECIMAL.match(s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid input
        return None


def texts(elements: list[Element]) -> Iterator[str]:
    for e in elements:
        yield e.text or ""
