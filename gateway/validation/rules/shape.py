"""The one record shape of every native rule, laid out as the official Schematron is.

A ``Pattern`` is a list of ``Context`` records in priority order; a context
says which nodes it matches and which ``Assert``s hold for each of them (an
assertion's test: ``test(node, doc)``, True when the node satisfies it).
Within one pattern of ``overlapping`` contexts a node is checked only by the
first context that matches it (Schematron's rule); patterns are independent
of each other. ``engine.RuleSet`` runs them.

Every family produces these records: the Peppol and national patterns are
written as such; the table-like families generate them from their tables
(``core_family.group`` from EN 16931 groups, ``vat`` one pattern per VAT
category, ``ubl_syntax`` from its rows of paths and counts).

Two optional fields keep the hot path fast without a second shape:

* ``Assert.failing``: the same answer for a whole node set (the nodes to
  report), so that a context of many nodes costs one call. For a
  document-level assertion (context: the root, ``checked``) it reports the
  nodes that make the document fail.
* ``Context.at``: the context is the first node at a root-relative path
  (a "shall not be used" row): the engine answers all such contexts in one
  pass over the paths the document has. ``Context.needs``: registered paths
  (``paths.reach``) without which the context matches nothing, so that it is
  skipped unasked.

``Pattern.on_error`` is what a dynamic error in a test does: ``"stop"`` the
whole stage (the official Peppol XSLT stops and reports nothing; all the
"stop" patterns of a rule set are one stage), or ``"report"`` the error under
that rule's id alone (the EN 16931 families).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from gateway.validation.rules.model import Doc, Element

Flag = Literal["fatal", "warning"]
OnError = Literal["stop", "report"]
# An assertion's test: True when the node satisfies it.
Test = Callable[[Element, Doc], bool]
# The nodes to report among many (in their order), answered at once.
Failing = Callable[[list[Element], Doc], list[Element]]
# The nodes a context matches, in document order where it matters.
Match = Callable[[Doc], Iterable[Element]]
# A document-level check: the nodes where it fails.
Check = Callable[[Doc], Iterable[Element]]


@dataclass(frozen=True, slots=True)
class Assert:
    id: str
    flag: Flag
    message: str
    test: Test = field(repr=False, compare=False)
    # Optional: the failing nodes of a whole node set at once. In a "stop"
    # pattern only for a test that can never stop the stage.
    failing: Failing | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Context:
    """One Schematron rule: a node set and the assertions made on each node."""

    what: str  # the context in words, for readers and error messages
    match: Match = field(repr=False, compare=False)
    asserts: tuple[Assert, ...]
    # Registered paths (``paths.reach``): none reaches the document, no node matches.
    needs: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    # A root-relative path: the context is the first node there (see above).
    at: str | None = None


@dataclass(frozen=True, slots=True)
class Pattern:
    contexts: tuple[Context, ...]
    # True when two contexts can match the same node (then the first wins).
    overlapping: bool = False
    # A condition every context of the pattern implies (a national rule's
    # country test, say): when it is false no context can match, so the
    # pattern is skipped. In a "stop" pattern it must never raise.
    when: Callable[[Doc], bool] | None = field(default=None, repr=False, compare=False)
    on_error: OnError = "stop"
    name: str = ""


# The empty node list, shared (never to be changed): no allocation per
# evaluation where nothing matches or fails.
NONE: Final[list[Element]] = []


def asserts(patterns: Iterable[Pattern]) -> list[Assert]:
    """Every assertion of the patterns, in order."""
    return [a for p in patterns for c in p.contexts for a in c.asserts]


def root(doc: Doc) -> list[Element]:
    """The context ``/ubl:Invoice | /cn:CreditNote``."""
    return [doc.root]


def checked(rule_id: str, flag: Flag, message: str, check: Check) -> Assert:
    """A document-level assertion (context: the root) reporting the nodes ``check`` yields."""

    def failing(nodes: list[Element], doc: Doc) -> list[Element]:
        found = check(doc)
        if isinstance(found, list):
            return found
        return list(found) if found else NONE  # most pass: no list to collect

    return Assert(rule_id, flag, message, lambda n, doc: not failing([n], doc), failing)


def never(node: Element, doc: Doc) -> bool:
    """The test of a "shall not be used" row: wherever its context matches, it fails."""
    return False


def not_used(rule_id: str, flag: Flag, message: str, path: str) -> Context:
    """A "shall not be used" row: fails once where the root-relative ``path`` exists."""
    return Context(path, _nothing, (Assert(rule_id, flag, message, never),), at=path)


def _nothing(doc: Doc) -> list[Element]:
    return NONE  # ``Context.at`` contexts are matched by the engine's pass over the paths
