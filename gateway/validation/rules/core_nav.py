"""Where rules apply and what they read: the document index as XPath paths.

``Nav`` answers the two kinds of look-up the EN 16931 rules make, from the
document index (``Doc.index``, root-relative paths) instead of walking the
tree: context patterns at any depth (``cac:InvoiceLine/cac:InvoicePeriod``
matches that path under any ancestor, as an XSLT pattern does) and relative
child paths from a context node (``cac:Price/cbc:PriceAmount``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.validation.rules.model import Doc, Element, qname

_EMPTY: Final[list[Element]] = []


class Nav:
    """Children by prefixed name and context patterns, answered from the index.

    Built once per document (``nav(doc)``) and shared by both families. The
    first ``find`` matches every known pattern in one pass over the index
    paths. A relative look-up from an element is an index look-up of its path
    plus the relative path, split by ancestor when several elements share the
    path; each (element path, relative path) is computed once per document.
    """

    __slots__ = ("_found", "_split", "_where", "doc", "index", "root")

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.index = doc.index
        self.root = doc.root
        self._found: dict[str, list[Element]] | None = None
        self._where: dict[Element, str] = {}
        self._split: dict[str, dict[str, dict[Element, list[Element]]]] = {}

    def path(self, element: Element, path: str) -> list[Element]:
        """Elements at a relative child path (``cac:Party/cac:PartyName/cbc:Name``)."""
        if element is self.root:
            return self.index.get(path, _EMPTY)
        key = self._where.get(element) or self._key_of(element)
        by_path = self._split.get(key)
        if by_path is None:
            by_path = self._split[key] = {}
        split = by_path.get(path)
        if split is None:
            split = by_path[path] = self._split_under(key, path)
        return split.get(element, _EMPTY)

    kids = path  # a child name is a one-step path

    def _split_under(self, key: str, path: str) -> dict[Element, list[Element]]:
        """The elements at ``key/path``, by their ancestor at ``key``."""
        found = self.index.get(f"{key}/{path}", _EMPTY)
        anchors = self.index[key]
        if len(anchors) == 1:
            return {anchors[0]: found}
        return _split_by_ancestor(found, path.count("/") + 1)

    def _key_of(self, element: Element) -> str:
        """The index path of an element (root-relative, prefixed names)."""
        parent = element.getparent()
        name = qname(element.tag)
        if parent is None or parent is self.root:
            key = name
        else:
            key = f"{self._where.get(parent) or self._key_of(parent)}/{name}"
        self._where[element] = key
        return key

    def has(self, element: Element, path: str) -> bool:
        return bool(self.path(element, path))

    def find(self, pattern: str) -> list[Element]:
        """Elements matching a relative path pattern at any depth (``a/b``: a b under an a)."""
        found = self._found
        if found is None:
            found = self._found = self._match_known()
        hit = found.get(pattern)
        if hit is not None:
            return hit
        if pattern in _KNOWN:
            return _EMPTY
        # Not declared with ``known``: answered by a scan, for this document only.
        hit = [e for key, nodes in self.index.items() if _fits(key, pattern) for e in nodes]
        found[pattern] = hit
        return hit

    def find_all(self, *patterns: str) -> list[Element]:
        return [e for p in patterns for e in self.find(p)]

    def _match_known(self) -> dict[str, list[Element]]:
        index = self.index
        keys = index.keys()
        matching: dict[str, tuple[str, ...]] = {}
        for key in keys - _MATCHES.keys():  # paths not seen before (set operations in C)
            patterns = _matches(key)
            if patterns:
                matching[key] = patterns
        for key in keys & _POSITIVE.keys():
            matching[key] = _POSITIVE[key]
        found: dict[str, list[Element]] = {}
        for key, patterns in matching.items():
            nodes = index[key]
            for pattern in patterns:
                seen = found.get(pattern)
                if seen is None:
                    found[pattern] = list(nodes)
                else:
                    seen.extend(nodes)
        return found


def _split_by_ancestor(nodes: list[Element], depth: int) -> dict[Element, list[Element]]:
    """Nodes grouped by their ancestor ``depth`` levels up, in document order."""
    out: dict[Element, list[Element]] = {}
    for node in nodes:
        top = node
        for _ in range(depth):
            top = top.getparent()  # type: ignore[assignment]
        found = out.get(top)
        if found is None:
            out[top] = [node]
        else:
            found.append(node)
    return out


# The patterns the rules use, declared at import time with ``known`` (so that
# nothing global changes while documents are checked, in any thread), by last
# step; and which of them each index path matches: the same for every document.
_KNOWN: set[str] = set()
_BY_TAIL: dict[str, list[str]] = {}
_MATCHES: dict[str, tuple[str, ...]] = {}  # every path seen, up to the limit
_POSITIVE: dict[str, tuple[str, ...]] = {}  # those that match some pattern
_MATCHES_LIMIT: Final = 100_000  # then new paths are matched per document, not kept


def _fits(key: str, pattern: str) -> bool:
    return key == pattern or key.endswith("/" + pattern)


def known(*patterns: str) -> tuple[str, ...]:
    """Declare context patterns (at import time): ``find`` answers them from one pass."""
    for pattern in patterns:
        if pattern not in _KNOWN:
            _KNOWN.add(pattern)
            _BY_TAIL.setdefault(pattern.rpartition("/")[2], []).append(pattern)
    _MATCHES.clear()
    _POSITIVE.clear()
    return patterns


def _matches(key: str) -> tuple[str, ...]:
    """The known patterns an index path matches (kept while under the limit).

    The tables only grow, and only with facts true for every document, so
    documents checked at the same time in other threads read them safely.
    """
    found = tuple(p for p in _BY_TAIL.get(key.rpartition("/")[2], ()) if _fits(key, p))
    if len(_MATCHES) < _MATCHES_LIMIT:
        if found:
            _POSITIVE[key] = found
        _MATCHES[key] = found
    return found


def nav(doc: Doc) -> Nav:
    """The document's shared ``Nav``."""
    found = doc.cache.get("core.nav")
    if found is None:
        found = doc.cache["core.nav"] = Nav(doc)
    return found


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
