"""Look-ups shared by the UBL syntax rules (UBL-CR, UBL-SR, UBL-DT).

The official rules reach elements in two ways that ``Doc.index`` does not
answer directly: at any depth (``//cac:X``, or a rule context such as
``cac:PaymentMeans``, which matches wherever the element is), and per
context element (``count(cbc:Note) <= 1`` on each line).

At any depth: the rule modules register, when imported, every path they ask
for that way (``reach``) and every name ending they look for (``ending``);
``paths`` groups a document's index keys by the registered paths they reach,
in one pass shared with the other families. Per context: the nodes at a
relative path are walked up to their context and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import cast

from gateway.validation.rules.kernel import boolean_items_equal, clark, string_value
from gateway.validation.rules.model import CAC, CBC, Doc, Element
from gateway.validation.rules.paths import ending as ending
from gateway.validation.rules.paths import last_step as last_step
from gateway.validation.rules.paths import reach as reach
from gateway.validation.rules.paths import registered, registered_ending
from gateway.validation.rules.shape import NONE, Assert, Context, Flag, checked, root

_PRICE = f"{{{CAC}}}Price"
_ALLOWANCE = f"{{{CAC}}}AllowanceCharge"
_TYPE_CODE = f"{{{CBC}}}DocumentTypeCode"
_NONE: tuple[str, ...] = ()

# Rule id -> the nodes where it fails, for rules answered together.
Answers = dict[str, Sequence[Element]]

# --- at any depth (the registry is shared with the other families: ``paths``) -------


def view(doc: Doc) -> dict[str, list[str]]:
    """Registered path (or ``*ending``) -> the document's index keys it reaches."""
    return doc.reached


def keys_anywhere(doc: Doc, path: str) -> Sequence[str]:
    """The index keys that ``//path`` reaches: the path itself, at any depth.

    ``path`` is a rule's own path (UBL prefixes), registered with ``reach``.
    """
    found = doc.reached.get(path)
    if found is None:
        if not registered(path):
            raise KeyError(f"path not registered with reach(): {path}")
        return _NONE
    return found


def anywhere(doc: Doc, path: str) -> list[Element]:
    """Elements ``//path`` selects (for ``.../@a``: the elements carrying ``a``)."""
    index = doc.index
    return [e for key in keys_anywhere(doc, path) for e in index[key]]


def attribute_anywhere(doc: Doc, name: str) -> list[Element]:
    """Elements carrying the attribute ``name`` (no namespace): ``//@name``."""
    carriers = anywhere(doc, "@" + name)
    if doc.root.get(name) is not None:
        carriers.insert(0, doc.root)
    return carriers


def present(doc: Doc, rows: Iterable[tuple[str, str]]) -> Answers:
    """For (rule id, registered path) rows: one node wherever ``//path`` reaches.

    ``//@a`` reaches the root element's own attributes too, which the index
    does not hold.
    """
    found_keys, index, root = doc.reached, doc.index, doc.root
    on_root = root.keys()  # usually none: namespace declarations are no attributes
    found: Answers = {}
    for rid, path in rows:
        keys = found_keys.get(path)
        if keys:
            found[rid] = index[keys[0]][:1]
        elif on_root and path[0] == "@" and root.get(path[1:]) is not None:
            found[rid] = (root,)
    return found


def named(doc: Doc, suffix: str) -> Sequence[str]:
    """Index keys of elements (any namespace) whose name ends with ``suffix``."""
    found = doc.reached.get("*" + suffix)
    if found is None:
        if not registered_ending(suffix):
            raise KeyError(f"name ending not registered with ending(): {suffix}")
        return _NONE
    return found


# --- values -------------------------------------------------------------------


def values(elements: Iterable[Element]) -> list[str]:
    return [string_value(e) for e in elements]


# --- per context element -------------------------------------------------------

_STEPS_UP_MEMO: dict[str, int] = {}


def steps_up(rel: str) -> int:
    """How many parents lead from a node at ``rel`` back to its context."""
    steps = _STEPS_UP_MEMO.get(rel)
    if steps is None:
        steps = rel.count("/") + 1
        if rel.rpartition("/")[2][:1] == "@":
            steps -= 1  # an attribute path's nodes are the elements carrying it
        _STEPS_UP_MEMO[rel] = steps
    return steps


def up(nodes: list[Element], steps: int) -> list[Element]:
    """The ancestor ``steps`` levels up of each node (nodes that deep in the tree)."""
    for _ in range(steps):
        nodes = cast("list[Element]", [n.getparent() for n in nodes])
    return nodes


def owners(doc: Doc, key: str, rel: str) -> list[Element]:
    """The context (at ``key``) of each node at ``rel``: one entry per node."""
    nodes = doc.index.get(f"{key}/{rel}")
    return up(nodes, steps_up(rel)) if nodes else []


def grouped(doc: Doc, key: str, rel: str) -> dict[Element, list[Element]]:
    """For contexts at ``key``: their nodes at ``rel`` (contexts with none left out)."""
    index = doc.index
    nodes = index.get(f"{key}/{rel}")
    if not nodes:
        return {}
    contexts = index[key]
    if len(contexts) == 1:  # the only context there: all nodes are its own
        return {contexts[0]: nodes}
    found: dict[Element, list[Element]] = {}
    for node, context in zip(nodes, up(nodes, steps_up(rel)), strict=True):
        found.setdefault(context, []).append(node)
    return found


class PerContext:
    """Nodes below each context at one index key, grouped once per relative path."""

    __slots__ = ("doc", "groups", "key")

    def __init__(self, doc: Doc, key: str) -> None:
        self.doc, self.key = doc, key
        self.groups: dict[str, dict[Element, list[Element]]] = {}

    def __call__(self, context: Element, rel: str) -> list[Element]:
        found = self.groups.get(rel)
        if found is None:
            found = self.groups[rel] = grouped(self.doc, self.key, rel)
        return found.get(context, [])


def parent_key(key: str) -> str:
    """The index key of the parent ('' for the root)."""
    step = last_step(key)
    return key[: len(key) - len(step) - 1] if len(key) > len(step) else ""


_TAGS_OF_PATH: dict[str, tuple[str, ...]] = {}


def below(element: Element, rel: str) -> list[Element]:
    """Elements at a relative path of UBL steps (``cac:PartyName/cbc:Name``), in order."""
    tags = _TAGS_OF_PATH.get(rel)
    if tags is None:
        tags = _TAGS_OF_PATH[rel] = tuple(clark(step) for step in rel.split("/"))
    found = [element]
    for tag in tags:
        found = [c for e in found for c in e.iterchildren(tag)]
    return found


def owning(doc: Doc, key: str, rel: str) -> Collection[Element]:
    """The contexts at ``key`` with some node at ``rel``."""
    index = doc.index
    nodes = index.get(f"{key}/{rel}")
    if not nodes:
        return ()
    contexts = index[key]
    return contexts if len(contexts) == 1 else set(up(nodes, steps_up(rel)))


def counts(doc: Doc, key: str, rel: str) -> Counter[Element]:
    """For contexts at ``key``: how many nodes each has at ``rel`` (none: left out)."""
    return Counter(owners(doc, key, rel))


def without(doc: Doc, keys: Iterable[str], rel: str) -> Iterator[Element]:
    """Contexts (at any of ``keys``) with no node at ``rel``."""
    for key in keys:
        having = owning(doc, key, rel)
        yield from (c for c in doc.index[key] if c not in having)


def in_priced_allowance(element: Element) -> bool:
    """Whether an ancestor ``cac:Price`` has a ``cac:AllowanceCharge`` child."""
    return any(a.tag == _PRICE and a.find(_ALLOWANCE) is not None for a in element.iterancestors())


def boolean_equals(elements: list[Element], wanted: bool) -> bool:
    """``elements = true()`` / ``= false()`` in a rule context: a value that is not
    a boolean is a dynamic error, which makes the context not match (XSLT patterns)."""
    return boolean_items_equal(elements, wanted) is True


def type_codes(reference: Element) -> list[str]:
    """The ``cbc:DocumentTypeCode`` values of a document reference."""
    return [string_value(c) for c in reference.iterchildren(_TYPE_CODE)]


# --- rules answered together --------------------------------------------------------


class Together:
    """Rules answered together, once per document: each rule reads its part.

    For tables of similar rules: one pass computes the failing nodes of all
    of them (rule id -> nodes), kept in ``doc.cache``; each rule is a
    document-level assertion (``shape.checked``) reading its id's nodes. The
    table's context (``match``) is the root when some of its rules fail, else
    nothing: a document where all of them hold costs one call.
    """

    def __init__(self, name: str, answer: Callable[[Doc], Answers]) -> None:
        self.key = f"ubl_syntax.{name}"
        self.answer = answer
        self.ids: list[str] = []
        TABLES.append(self)

    def answers(self, doc: Doc) -> Answers:
        found: Answers | None = doc.cache.get(self.key)
        if found is None:
            found = doc.cache[self.key] = self.answer(doc)
        return found

    def match(self, doc: Doc) -> list[Element]:
        return [doc.root] if self.answers(doc) else NONE

    def rule(self, rule_id: str, flag: Flag, message: str) -> Assert:
        def check(doc: Doc) -> Sequence[Element]:
            return self.answers(doc).get(rule_id, ())

        self.ids.append(rule_id)
        return checked(rule_id, flag, message, check)


# Every table of rules answered together, as the modules define them.
TABLES: list[Together] = []


def contexts(asserts: Iterable[Assert]) -> tuple[Context, ...]:
    """The document-level assertions as contexts: one per table (``Together``)
    and one, the root, for the others."""
    owner = {rule_id: table for table in TABLES for rule_id in table.ids}
    alone: list[Assert] = []
    tables: dict[str, tuple[Together, list[Assert]]] = {}
    for a in asserts:
        table = owner.get(a.id)
        if table is None:
            alone.append(a)
        else:
            tables.setdefault(table.key, (table, []))[1].append(a)
    return (
        Context("the document", root, tuple(alone)),
        *(Context(key, t.match, tuple(found)) for key, (t, found) in tables.items()),
    )
