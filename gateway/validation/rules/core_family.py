"""The EN 16931 families' rules as data, generating ``shape`` records.

A family module lists groups: a selector (the context, read through the
document's ``Nav``) and its assertions as rows (id, flag, message, test, the
test taking ``(Nav, node)``). ``group`` generates the ``shape.Context`` of
each, adapting the selector and tests to the records' uniform call (the
document's shared ``Nav`` looked up once per context and assertion, not per
node); ``family`` makes them one "report" ``shape.Pattern``. A context that
can only find paths the document lacks (``core_nav.needing``) is skipped
unasked; a test with a ``failing`` method (``Bulk``) answers for all the nodes
of its context at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Final, Protocol

from gateway.validation.rules.core_nav import NEEDS, Nav, nav
from gateway.validation.rules.kernel import DynamicError, clark, either, has_text
from gateway.validation.rules.model import Children, Doc, Element
from gateway.validation.rules.shape import Assert, Context, Flag, Pattern

Test = Callable[[Nav, Element], bool]
Selector = Callable[[Nav], list[Element]]
Row = tuple[str, Flag, str, Test]  # id, flag, message, test (True = passes)

_NO_CHILDREN: Final[Children] = {}
_NONE: Final[list[Element]] = []


# --- test builders ----------------------------------------------------------


def _at(path: str) -> Callable[[Nav, Element], list[Element]]:
    """The look-up of a relative path from a node, its steps resolved once."""
    first, *rest = (clark(step) for step in path.split("/"))
    if not rest:
        return lambda x, n: x.children.get(n, _NO_CHILDREN).get(first, _NONE)
    steps = tuple(rest)

    def at(x: Nav, n: Element) -> list[Element]:
        if n is x.root:
            return x.index.get(path, _NONE)
        level = x.children.get(n, _NO_CHILDREN).get(first, _NONE)
        return x.descend(level, steps) if level else level

    return at


def exists(*paths: str) -> Test:
    """Some element exists at one of the relative paths."""
    if len(paths) == 1 and "/" not in paths[0]:
        tag = clark(paths[0])
        return lambda x, n: tag in x.children.get(n, _NO_CHILDREN)
    looks = tuple(_at(p) for p in paths)
    if len(looks) == 1:
        (look,) = looks
        return lambda x, n: bool(look(x, n))
    return lambda x, n: any(look(x, n) for look in looks)


def filled(*paths: str) -> Test:
    """``normalize-space(path) != ''``; for several paths, joined by ``or``."""
    looks = tuple(_at(p) for p in paths)
    if len(looks) == 1:
        (look,) = looks
        return lambda x, n: has_text(look(x, n))
    return lambda x, n: either(*(partial(_filled, x, n, look) for look in looks))


def _filled(x: Nav, n: Element, look: Callable[[Nav, Element], list[Element]]) -> bool:
    return has_text(look(x, n))


def attribute(name: str) -> Test:
    return lambda x, n: n.get(name) is not None


def always(x: Nav, n: Element) -> bool:
    """Rules whose official test is ``true()``: kept for their id, never fail."""
    return True


def plain_first(plain: Test, exact: Test) -> Test:
    """A test evaluated plainly (every operand), and exactly only on an error.

    Without errors, evaluating every operand gives the same answer as the
    lazy, error-masking evaluation; only an error needs the exact order.
    """

    def test(x: Nav, n: Element) -> bool:
        try:
            return plain(x, n)
        except DynamicError:
            return exact(x, n)

    return test


class Bulk(Protocol):
    """A test that also answers for many nodes at once (the ones failing, in order)."""

    def __call__(self, x: Nav, n: Element, /) -> bool: ...

    def failing(self, x: Nav, nodes: list[Element], /) -> list[Element]: ...


def _assert(rule_id: str, flag: Flag, message: str, test: Test) -> Assert:
    """The record of one row: its test called with the document's ``Nav``."""

    def one(n: Element, doc: Doc) -> bool:
        return test(nav(doc), n)

    bulk: Callable[[Nav, list[Element]], list[Element]] | None = getattr(test, "failing", None)
    if bulk is None:
        return Assert(rule_id, flag, message, one)
    at_once = bulk

    def failing(nodes: list[Element], doc: Doc) -> list[Element]:
        return at_once(nav(doc), nodes)

    return Assert(rule_id, flag, message, one, failing)


def group(name: str, select: Selector, rows: Sequence[Row]) -> tuple[Context]:
    """One context, as a 1-tuple so that groups concatenate with ``+``."""

    def match(doc: Doc) -> list[Element]:
        return select(nav(doc))

    asserts = tuple(_assert(*row) for row in rows)
    return (Context(name, match, asserts, needs=NEEDS.get(select)),)


def family(name: str, contexts: Sequence[Context]) -> tuple[Pattern]:
    """A family of groups as one pattern: an error in a test (a dynamic error,
    or a bug) is reported under that rule's id alone, an error in a context
    under each rule of the group."""
    return (Pattern(tuple(contexts), on_error="report", name=name),)
