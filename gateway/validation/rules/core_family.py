"""Rules as data: assertions grouped by context, evaluated once per document.

A family module lists groups (a context getter and its assertions: id, flag,
message, test); ``family`` turns them into the engine's ``Rule`` records, all
answered by one ``Batch``: every group evaluated once per document. A context
that can only find paths the document lacks (``core_nav.needing``) is skipped
unasked; a test with a ``failing`` method (``Bulk``) answers for all the nodes
of its context at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, Protocol

from gateway.validation.rules.core_nav import NEEDS, Nav, nav
from gateway.validation.rules.engine import Batch, Flag, Rule, batched
from gateway.validation.rules.kernel import DynamicError, clark, either, has_text
from gateway.validation.rules.model import Children, Doc, Element

Test = Callable[[Nav, Element], bool]
Context = Callable[[Nav], list[Element]]
Assert = tuple[str, Flag, str, Test]  # id, flag, message, test (True = passes)

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


@dataclass(frozen=True, slots=True)
class Group:
    """Assertions sharing one context (one Schematron rule, or part of one)."""

    name: str
    context: Context
    asserts: tuple[Assert, ...]


class Bulk(Protocol):
    """A test that also answers for many nodes at once (the ones failing, in order)."""

    def __call__(self, x: Nav, n: Element, /) -> bool: ...

    def failing(self, x: Nav, nodes: list[Element], /) -> list[Element]: ...


def _each(x: Nav, nodes: list[Element], test: Test) -> list[Element] | Exception | None:
    """The nodes failing ``test``, node by node; the last error if any raises."""
    failed: list[Element] | None = None
    error: Exception | None = None
    for node in nodes:
        try:
            if test(x, node):
                continue
        except Exception as exc:  # reported under this rule by the engine
            error = exc
            continue
        if failed is None:
            failed = [node]
        else:
            failed.append(node)
    return error if error is not None else failed


def _at_once(
    x: Nav,
    nodes: list[Element],
    test: Test,
    failing: Callable[[Nav, list[Element]], list[Element]],
) -> list[Element] | Exception | None:
    """The nodes failing a ``Bulk`` test; node by node if it raises (to keep its errors)."""
    try:
        return failing(x, nodes)
    except Exception:
        return _each(x, nodes, test)


def group(name: str, context: Context, asserts: Sequence[Assert]) -> tuple[Group]:
    """One group, as a 1-tuple so that groups concatenate with ``+``."""
    return (Group(name, context, tuple(asserts)),)


def family(name: str, groups: Sequence[Group]) -> tuple[Rule, ...]:
    """The engine's rules for a family of groups, all evaluated in one pass.

    The rules share one ``Batch``: the engine evaluates every group once per
    document and reads the failing nodes per rule. An error in a test (a
    dynamic error, or a bug) is kept for that rule alone and reported under
    its id; an error in a context is kept for every rule of the group.
    """

    plan = tuple(
        (
            g.context,
            NEEDS.get(g.context),
            tuple((a[0], a[3], getattr(a[3], "failing", None)) for a in g.asserts),
        )
        for g in groups
    )

    def evaluate(doc: Doc) -> dict[str, list[Element] | Exception]:
        x = nav(doc)
        reached = x.reached
        out: dict[str, list[Element] | Exception] = {}
        for context, needs, asserts in plan:
            if needs is not None:
                for pattern in needs:
                    if pattern in reached:
                        break
                else:
                    continue  # nothing it could find is in the document
            try:
                nodes = context(x)
            except Exception as exc:
                for rule_id, _, _ in asserts:
                    out[rule_id] = exc
                continue
            if not nodes:
                continue
            for rule_id, test, failing in asserts:
                if failing is not None:
                    result = _at_once(x, nodes, test, failing)
                    if result:
                        out[rule_id] = result
                    continue
                for node in nodes:
                    try:
                        if test(x, node):
                            continue
                    except Exception as exc:  # reported under this rule by the engine
                        out[rule_id] = exc
                        continue
                    failed = out.get(rule_id)
                    if failed is None:
                        out[rule_id] = [node]
                    elif isinstance(failed, list):
                        failed.append(node)
        return out

    batch = Batch(name + ".results", evaluate)
    return tuple(
        batched(rule_id, flag, message, batch)
        for g in groups
        for rule_id, flag, message, _ in g.asserts
    )
