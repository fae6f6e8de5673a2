"""Peppol BIS rules as data, laid out the way the official Schematron is.

A ``Pattern`` is a list of ``Context`` records in priority order; a context
says which nodes it matches and which ``Assert``s hold for each of them.
Within one pattern a node is checked only by the first context that matches
it (Schematron's rule), patterns are independent of each other.

The whole Peppol stage (Peppol and national rules alike) is evaluated once per
document by ``peppol_stage``; the engine's ``Rule`` records for one family
then just read their id's failures from it. That keeps one official
behaviour in one place: when an assertion hits an XPath dynamic error the
official stage stops and reports nothing, so neither do we (see ``Abort``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.validation.rules.engine import Flag
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_xpath import (
    Abort,
)

# An assertion's test: True when the node satisfies it.
Test = Callable[[Element, Doc], bool]
# The nodes a context matches, in document order where it matters.
Match = Callable[[Doc], Iterable[Element]]


@dataclass(frozen=True, slots=True)
class Assert:
    id: str
    flag: Flag
    message: str
    test: Test = field(repr=False, compare=False)


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


def evaluate(doc: Doc, patterns: Iterable[Pattern]) -> Outcome:
    failed: dict[str, list[Element]] = {}
    current = ""
    try:
        for pattern in patterns:
            if pattern.when is not None and not pattern.when(doc):
                continue
            seen: set[Element] | None = set() if pattern.overlapping else None
            for context in pattern.contexts:
                for node in context.match(doc):
                    if seen is not None:
                        if node in seen:
                            continue
                        seen.add(node)
                    for a in context.asserts:
                        current = a.id
                        if not a.test(node, doc):
                            found = failed.get(a.id)
                            if found is None:
                                failed[a.id] = [node]
                            else:
                                found.append(node)
    except Abort as stop:
        if stop.schema:
            # The XSD already rejects this document; like the official stage
            # we report no Peppol findings at all.
            return Outcome({}, stopped=True, reason=str(stop))
        return Outcome({}, current, str(stop), stopped=True)
    return Outcome(failed)


def ids(patterns: Iterable[Pattern]) -> list[Assert]:
    return [a for p in patterns for c in p.contexts for a in c.asserts]
