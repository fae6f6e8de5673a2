"""The document model the native rules read: built in one walk, then shared.

``Doc.index`` maps every element (and attribute) path, relative to the root
and written with the usual UBL prefixes (``cac:InvoiceLine/cbc:ID``,
``cbc:ID/@schemeID``), to the nodes at that path in document order. Most
rules are then dictionary look-ups instead of XPath queries; rules about one
line or one allowance descend from that element (``kernel.below``).

Invoice and CreditNote share one model: the root is not part of any path,
and ``Doc.line`` / ``Doc.quantity`` give the names that differ between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final, TypeAlias, cast

from lxml import etree

from gateway.model import DocumentKind
from gateway.validation.rules.paths import TAGS, tags_of

CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
EXT: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
_PREFIX: Final = {CBC: "cbc", CAC: "cac", EXT: "ext"}

Element: TypeAlias = etree._Element


def qname(tag: str) -> str:
    """``{ns}local`` -> ``cbc:local`` for the UBL namespaces, else unchanged."""
    if tag[:1] != "{":
        return tag
    ns, _, local = tag[1:].partition("}")
    prefix = _PREFIX.get(ns)
    return f"{prefix}:{local}" if prefix else tag


# Paths are the same from one document to the next: each (parent path, tag)
# and (element path, attribute) is spelled once, up to bounds (documents
# full of made-up names cannot grow the tables without end: past them, names
# are spelled for the document at hand only).
_PATHS_LIMIT: Final = 5_000  # parent paths (element paths for attributes)
_NAMES_LIMIT: Final = 100  # names kept per parent path
_CHILD_PATHS: dict[str, dict[str, str]] = {}
_ATTRIBUTE_PATHS: dict[str, dict[str, str]] = {}


def _attribute_paths(path: str) -> dict[str, str]:
    """Attribute name -> path, for the attributes of elements at ``path``."""
    if len(_ATTRIBUTE_PATHS) >= _PATHS_LIMIT:
        return {}
    return _ATTRIBUTE_PATHS.setdefault(path, {})


Children = dict[str, list[Element]]


_XML_SPACE: Final = " \t\n\r"
_HIDDEN: Final = (etree.Comment, etree.ProcessingInstruction)


def _blank(element: Element) -> bool:
    """No child element, and a string value of XML whitespace only (``not(*)
    and not(normalize-space())``), for an element whose children are all
    comments or processing instructions (at least one)."""
    return any(cast(object, c.tag) in _HIDDEN for c in element) and not "".join(
        cast("Iterator[str]", element.itertext())
    ).strip(_XML_SPACE)


class _Model:
    """What one walk builds (see ``Doc``)."""

    __slots__ = ("by_tag", "children", "empty", "index", "reached")

    def __init__(self) -> None:
        self.index: dict[str, list[Element]] = {}
        self.children: dict[Element, Children] = {}
        self.by_tag: Children = {}
        self.empty: list[Element] = []
        self.reached: dict[str, list[str]] = {}


def _build(root: Element) -> _Model:
    """The index (path -> nodes), the child elements of every element by tag,
    the elements by tag at any depth (the root left out), the empty elements
    and the index keys each path registered in ``paths`` reaches, in one walk.

    One flat pass over ``root.iter(Element)`` (document order, comments and
    processing instructions skipped in C), each element finding its parent's
    path by ``getparent()``: an lxml child iterator per element with children
    costs several times more than that look-up.
    """
    model = _Model()
    index, by_tag, reached, tagged = model.index, model.by_tag, model.reached, TAGS.get
    children, empty = model.children, model.empty
    top: Children = {}
    children[root] = top
    bases: dict[Element, str] = {root: ""}  # element -> its path + "/", for its children
    # The last element seen with nodes inside it, until we know whether one of
    # them is an element: if the next element is not its child, it has none,
    # and it is empty when its text (comments aside) is blank.
    pending: Element | None = None
    elements = root.iter(etree.Element)
    next(elements)  # the root itself
    for child in elements:
        parent: Element = child.getparent()  # type: ignore[assignment]  # below the root
        if pending is not None:
            if parent is not pending and _blank(pending):
                empty.append(pending)
            pending = None
        base = bases[parent]
        tag: str = child.tag
        known = _CHILD_PATHS.get(base)
        if known is None:
            known = {} if len(_CHILD_PATHS) >= _PATHS_LIMIT else _CHILD_PATHS.setdefault(base, {})
        path = known.get(tag)
        if path is None:
            path = base + qname(tag)
            if len(known) < _NAMES_LIMIT:
                known[tag] = path
        found = index.get(path)
        if found is None:
            index[path] = [child]
            tags = tagged(path)
            if tags is None:
                tags = tags_of(path)
            for at in tags:  # the registered paths at any depth that reach it
                keys = reached.get(at)
                if keys is None:
                    reached[at] = [path]
                else:
                    keys.append(path)
        else:
            found.append(child)
        kids = children[parent]
        same = kids.get(tag)
        if same is None:
            kids[tag] = [child]
        else:
            same.append(child)
        named = by_tag.get(tag)
        if named is None:
            by_tag[tag] = [child]
        else:
            named.append(child)
        names: list[str] = child.keys()  # type: ignore[assignment]
        if names:
            spelled = _ATTRIBUTE_PATHS.get(path)
            if spelled is None:
                spelled = _attribute_paths(path)
            for name in names:
                apath = spelled.get(name)
                if apath is None:
                    apath = f"{path}/@{qname(name)}"
                    if len(spelled) < _NAMES_LIMIT:
                        spelled[name] = apath
                seen = index.get(apath)
                if seen is None:
                    index[apath] = [child]
                    tags = tagged(apath)
                    if tags is None:
                        tags = tags_of(apath)
                    for at in tags:
                        keys = reached.get(at)
                        if keys is None:
                            reached[at] = [apath]
                        else:
                            keys.append(apath)
                else:
                    seen.append(child)
        if len(child):
            children[child] = {}
            bases[child] = path + "/"
            pending = child
        else:
            text = child.text
            if not text or not text.strip(_XML_SPACE):
                empty.append(child)
    if pending is not None and _blank(pending):
        empty.append(pending)
    if not top and (_blank(root) if len(root) else not (root.text or "").strip(_XML_SPACE)):
        empty.insert(0, root)
    return model


_NO_CHILDREN: Final[Children] = {}
_NONE: Final[list[Element]] = []


class Doc:
    """One parsed UBL document, indexed once. Read-only for rules."""

    __slots__ = (
        "by_tag",
        "cache",
        "children",
        "empty",
        "index",
        "kind",
        "line",
        "quantity",
        "reached",
        "root",
        "type_code",
    )

    def __init__(self, root: Element, kind: DocumentKind) -> None:
        self.root = root
        self.kind = kind
        invoice = kind is DocumentKind.INVOICE
        self.line = "cac:InvoiceLine" if invoice else "cac:CreditNoteLine"
        self.quantity = "cbc:InvoicedQuantity" if invoice else "cbc:CreditedQuantity"
        self.type_code = "cbc:InvoiceTypeCode" if invoice else "cbc:CreditNoteTypeCode"
        # ``index``: root-relative path -> nodes; ``children``: element -> its
        # child elements by Clark tag (elements without children are absent);
        # ``by_tag``: Clark tag -> the elements of that name below the root
        # (``//name``), each list in document order; ``empty``: the elements
        # with no child element and only XML whitespace as text, in order;
        # ``reached``: path registered with ``paths.reach`` -> the index keys
        # ``//path`` reaches, in index order.
        model = _build(root)
        self.index, self.children, self.by_tag = model.index, model.children, model.by_tag
        self.empty, self.reached = model.empty, model.reached
        # Values derived once and shared by several rules (sums, totals, ...),
        # keyed by a name the family module chooses ("core.line_net_sum").
        self.cache: dict[str, Any] = {}

    def kids(self, element: Element, tag: str) -> list[Element]:
        """The child elements of ``element`` named ``tag`` (a Clark name), in order."""
        return self.children.get(element, _NO_CHILDREN).get(tag, _NONE)

    # --- root-relative look-ups (dictionary hits) --------------------------

    def all(self, path: str) -> list[Element]:
        """Every element at ``path`` (for ``.../@attr`` paths: the elements carrying it)."""
        return self.index.get(path, [])

    def has(self, path: str) -> bool:
        return path in self.index

    def lines(self) -> list[Element]:
        return self.index.get(self.line, [])


def location(element: Element) -> str:
    """An XPath to the node, for reports: ``/*/cac:InvoiceLine[2]/cbc:ID``."""
    return str(element.getroottree().getpath(element))
