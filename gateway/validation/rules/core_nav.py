"""Where rules apply and what they read: the document index as XPath paths.

``Nav`` answers the two kinds of look-up the EN 16931 rules make from the
document model built in one walk (``Doc``): context patterns at any depth
(``cac:InvoiceLine/cac:InvoicePeriod`` matches that path under any ancestor,
as an XSLT pattern does), from the index of root-relative paths; and
relative child paths from a context node (``cac:Price/cbc:PriceAmount``),
from the children of each element by tag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.validation.rules.kernel import clark, descend
from gateway.validation.rules.model import Children, Doc, Element
from gateway.validation.rules.paths import fits, reach

_EMPTY: Final[list[Element]] = []
_NO_CHILDREN: Final[Children] = {}


class Nav:
    """Children by prefixed name and context patterns, answered from the model.

    Built once per document (``nav(doc)``) and shared by both families.
    ``find`` reads the paths a pattern reaches from the one pass over the
    index keys all families share (``paths.reached``), in index order.
    """

    __slots__ = ("_found", "children", "doc", "index", "reached", "root", "vat_schemes")

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.index = doc.index
        self.children = doc.children
        self.root = doc.root
        self.reached = doc.reached
        self._found: dict[str, list[Element]] = {}
        # element -> its VAT tax scheme test (``core_context.vat_scheme``)
        self.vat_schemes: dict[Element, bool | Exception] = {}

    def path(self, element: Element, path: str) -> list[Element]:
        """Elements at a relative child path (``cac:Party/cac:PartyName/cbc:Name``), in order."""
        if element is self.root:
            return self.index.get(path, _EMPTY)
        kids = self.children.get(element)
        if kids is None:
            return _EMPTY
        first, rest = _STEPS.get(path) or _steps(path)
        level = kids.get(first, _EMPTY)
        return self.descend(level, rest) if rest and level else level

    def descend(self, level: list[Element], steps: tuple[str, ...]) -> list[Element]:
        """The elements at the relative path ``steps`` (Clark names) under ``level``."""
        return descend(self.children, level, steps)

    def kids(self, element: Element, name: str) -> list[Element]:
        """Child elements by prefixed name (``cbc:ID``)."""
        tag = clark(name)
        return self.children.get(element, _NO_CHILDREN).get(tag, _EMPTY)

    def has(self, element: Element, path: str) -> bool:
        return bool(self.path(element, path))

    def find(self, pattern: str) -> list[Element]:
        """Elements matching a relative path pattern at any depth (``a/b``: a b under an a).

        The list may be the index's own: do not modify it.
        """
        keys = self.reached.get(pattern)
        if keys is not None:
            if len(keys) == 1:
                return self.index[keys[0]]
            hit = self._found.get(pattern)
            if hit is None:
                index = self.index
                hit = self._found[pattern] = [e for k in keys for e in index[k]]
            return hit
        if pattern in _KNOWN:
            return _EMPTY
        # Not declared with ``known``: answered by a scan.
        hit = self._found.get(pattern)
        if hit is None:
            items = self.index.items()
            hit = self._found[pattern] = [
                e for k, nodes in items if fits(k, pattern) for e in nodes
            ]
        return hit

    def find_all(self, *patterns: str) -> list[Element]:
        reached, find = self.reached, self.find
        # a known pattern that reaches no path of the document finds nothing
        return [e for p in patterns if p in reached or p not in _KNOWN for e in find(p)]


# A relative path as Clark names: the first step and the others (the same for
# every document).
_STEPS: dict[str, tuple[str, tuple[str, ...]]] = {}
_LIMIT: Final = 100_000  # entries kept for paths seen in documents


def _steps(path: str) -> tuple[str, tuple[str, ...]]:
    first, *rest = (clark(step) for step in path.split("/"))
    steps = (first, tuple(rest))
    if len(_STEPS) < _LIMIT:
        _STEPS[path] = steps
    return steps


# The patterns the rules use, declared at import time with ``known``.
_KNOWN: set[str] = set()


def known(*patterns: str) -> tuple[str, ...]:
    """Declare context patterns (at import time): ``find`` answers them from the
    document's one pass over its paths (``paths.reached``)."""
    _KNOWN.update(patterns)
    return reach(*patterns)


def nav(doc: Doc) -> Nav:
    """The document's shared ``Nav``."""
    found = doc.cache.get("core.nav")
    if found is None:
        found = doc.cache["core.nav"] = Nav(doc)
    return found


# Context getters that find nothing unless one of these patterns reaches a path
# of the document: the engine skips them without asking (``shape.Context.needs``).
NEEDS: dict[Callable[[Nav], list[Element]], tuple[str, ...]] = {}


def needing(
    patterns: tuple[str, ...], context: Callable[[Nav], list[Element]]
) -> Callable[[Nav], list[Element]]:
    """Declare that ``context`` is empty when none of ``patterns`` is in the document."""
    NEEDS[context] = patterns
    return context


def memo(name: str, compute: Callable[[Nav], list[Element]]) -> Callable[[Nav], list[Element]]:
    """A context getter computed once per document."""
    key = "core.ctx." + name

    def get(x: Nav) -> list[Element]:
        cache = x.doc.cache
        found = cache.get(key)
        if found is None:
            found = cache[key] = compute(x)
        return found

    return get
