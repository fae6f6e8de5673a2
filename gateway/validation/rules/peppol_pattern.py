"""Peppol BIS rules as data, laid out the way the official Schematron is.

A ``Pattern`` is a list of ``Context`` records in priority order; a context
says which nodes it matches and which ``Assert``s hold for each of them.
Within one pattern a node is checked only by the first context that matches
it (Schematron's rule), patterns are independent of each other.

The whole Peppol stage (Peppol and national rules alike) is evaluated once per
document by ``peppol_stage``; the engine's ``Rule`` records for one family
then just read their id's failures from it. That keeps one official
behaviour in one place: when an assertion hits an XPath dynamic error the
official stage stops and reports nothing, so neither do we (see ``kernel.DynamicError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.validation.rules.engine import Flag
from gateway.validation.rules.kernel import DynamicError
from gateway.validation.rules.model import Doc, Element

# An assertion's test: True when the node satisfies it.
Test = Callable[[Element, Doc], bool]
# The nodes a context matches, in document order where it matters.
Match = Callable[[Doc], Iterable[Element]]


# The nodes failing a test, for many nodes at once (in their order).
Failing = Callable[[list[Element], Doc], list[Element]]


@dataclass(frozen=True, slots=True)
class Assert:
    id: str
    flag: Flag
    message: str
    test: Test = field(repr=False, compare=False)
    # Optional, for a test that can never stop the stage: the same answer for a
    # whole node set, so that a context of many nodes costs one call.
    failing: Failing | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Context:
    """One Schematron rule: a node set and the assertions made on each node."""

    what: str  # the context in words, for readers and error messages
    match: Match = field(repr=False, compare=False)
    asserts: tuple[Assert, ...]


@dataclass(frozen=True, slots=True)
class Pattern:
    contexts: tuple[Context, ...]
    # True when two contexts can match the same node (then the first wins).
    overlapping: bool = False
    # A condition every context of the pattern implies (a national rule's
    # country test, say): when it is false no context can match, so the
    # pattern is skipped. It must never raise.
    when: Callable[[Doc], bool] | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class Outcome:
    """What the stage found on one document."""

    failed: dict[str, list[Element]]
    # Set when the stage stopped on an XPath error the schema does not
    # explain: the rule whose test hit it (the document must be rejected).
    aborted_by: str | None = None
    reason: str = ""
    # The stage stopped on an error the XSD explains: nothing is reported.
    stopped: bool = False


# A pattern compiled for evaluation: its condition, whether its contexts
# overlap, and per context: its match, ((rule id, test), ...), and the
# ((rule id, failing), ...) that answer it at once when every assertion can.
Plan = tuple[
    tuple[
        Callable[[Doc], bool] | None,
        bool,
        tuple[
            tuple[Match, tuple[tuple[str, Test], ...], tuple[tuple[str, Failing], ...] | None],
            ...,
        ],
    ],
    ...,
]


def _at_once(c: Context) -> tuple[tuple[str, Failing], ...] | None:
    found = tuple((a.id, a.failing) for a in c.asserts if a.failing is not None)
    return found if len(found) == len(c.asserts) else None


def compile_patterns(patterns: Iterable[Pattern]) -> Plan:
    return tuple(
        (
            p.when,
            p.overlapping,
            tuple(
                (c.match, tuple((a.id, a.test) for a in c.asserts), _at_once(c)) for c in p.contexts
            ),
        )
        for p in patterns
    )


def evaluate(doc: Doc, patterns: Iterable[Pattern]) -> Outcome:
    return run(doc, compile_patterns(patterns))


def run(doc: Doc, plan: Plan) -> Outcome:
    """The outcome of compiled patterns on ``doc``."""
    failed: dict[str, list[Element]] = {}
    current = ""
    try:
        for when, overlapping, contexts in plan:
            if when is not None and not when(doc):
                continue
            seen: set[Element] | None = set() if overlapping else None
            for match, asserts, at_once in contexts:
                if at_once is not None:  # no test can stop the stage: node order is free
                    nodes = list(match(doc))
                    if seen is not None:
                        nodes = _unseen(nodes, seen)
                    if nodes:
                        for rule_id, failing in at_once:
                            found_at_once = failing(nodes, doc)
                            if found_at_once:
                                failed[rule_id] = found_at_once
                    continue
                for node in match(doc):
                    if seen is not None:
                        if node in seen:
                            continue
                        seen.add(node)
                    for rule_id, test in asserts:
                        current = rule_id
                        if not test(node, doc):
                            found = failed.get(rule_id)
                            if found is None:
                                failed[rule_id] = [node]
                            else:
                                found.append(node)
    except DynamicError as stop:
        if stop.schema:
            # The XSD already rejects this document; like the official stage
            # we report no Peppol findings at all.
            return Outcome({}, stopped=True, reason=str(stop))
        return Outcome({}, current, str(stop), stopped=True)
    return Outcome(failed)


def _unseen(nodes: list[Element], seen: set[Element]) -> list[Element]:
    """The nodes no earlier context of the pattern took (now taken), in order."""
    fresh = []
    for node in nodes:
        if node not in seen:
            seen.add(node)
            fresh.append(node)
    return fresh


def ids(patterns: Iterable[Pattern]) -> list[Assert]:
    return [a for p in patterns for c in p.contexts for a in c.asserts]
