"""Rules as data: assertions grouped by context, evaluated once per document.

A family module lists groups (a context getter and its assertions: id, flag,
message, test); ``family`` turns them into the engine's ``Rule`` records. The
first rule the engine asks for evaluates every group of the family and keeps
the failing nodes per rule in ``doc.cache``; the others only read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final

from gateway.validation.rules.core_nav import Nav, nav
from gateway.validation.rules.core_xpath import DynamicError, either
from gateway.validation.rules.core_xpath import filled as has_text
from gateway.validation.rules.engine import Flag, Rule
from gateway.validation.rules.model import Doc, Element

Test = Callable[[Nav, Element], bool]
Context = Callable[[Nav], list[Element]]
Assert = tuple[str, Flag, str, Test]  # id, flag, message, test (True = passes)


# --- test builders ----------------------------------------------------------


def exists(*paths: str) -> Test:
    """Some element exists at one of the relative paths."""
    if len(paths) == 1:
        path = paths[0]
        return lambda x, n: bool(x.path(n, path))
    return lambda x, n: any(x.path(n, p) for p in paths)


def filled(*paths: str) -> Test:
    """``normalize-space(path) != ''``; for several paths, joined by ``or``."""
    if len(paths) == 1:
        path = paths[0]
        return lambda x, n: has_text(x.path(n, path))
    return lambda x, n: either(*(partial(_filled, x, n, p) for p in paths))


def _filled(x: Nav, n: Element, path: str) -> bool:
    return has_text(x.path(n, path))


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


def group(name: str, context: Context, asserts: Sequence[Assert]) -> tuple[Group]:
    """One group, as a 1-tuple so that groups concatenate with ``+``."""
    return (Group(name, context, tuple(asserts)),)


_PASS: Final[list[Element]] = []


def family(name: str, groups: Sequence[Group]) -> tuple[Rule, ...]:
    """The engine's rules for a family of groups, all evaluated in one pass.

    The first rule the engine asks for evaluates every group and keeps the
    failing nodes per rule in ``doc.cache``; the others read them. An error
    in a test (a dynamic error, or a bug) is kept for that rule alone and
    raised when the engine asks for it, so it is reported under its id; an
    error in a context is kept for every rule of the group.
    """
    key = name + ".results"
    passing = {rule_id: _PASS for g in groups for rule_id, *_ in g.asserts}

    def evaluate(doc: Doc) -> dict[str, list[Element] | Exception]:
        x = nav(doc)
        out: dict[str, list[Element] | Exception] = dict(passing)
        for g in groups:
            try:
                nodes = g.context(x)
            except Exception as exc:
                for rule_id, *_ in g.asserts:
                    out[rule_id] = exc
                continue
            for node in nodes:
                for rule_id, _flag, _message, test in g.asserts:
                    try:
                        if test(x, node):
                            continue
                    except Exception as exc:  # reported under this rule by the engine
                        out[rule_id] = exc
                        continue
                    failed = out[rule_id]
                    if failed is _PASS:
                        out[rule_id] = [node]
                    elif isinstance(failed, list):
                        failed.append(node)
        doc.cache[key] = out
        return out

    def checker(rule_id: str) -> Callable[[Doc], list[Element]]:
        def check(doc: Doc) -> list[Element]:
            results = doc.cache.get(key) or evaluate(doc)
            found = results[rule_id]
            if isinstance(found, list):
                return found
            raise found

        return check

    return tuple(
        Rule(rule_id, flag, message, checker(rule_id))
        for g in groups
        for rule_id, flag, message, _ in g.asserts
    )
