"""The native rule engine: runs ``shape.Pattern`` records over one ``Doc``.

Every family hands the engine the same records (``shape``). ``RuleSet``
compiles them once into plain tuples (the hot path reads no attributes):

* "shall not be used" contexts (``Context.at``) go to a table by path, all
  answered by one pass over the paths the document actually has;
* "report" patterns run context by context, each assertion over the whole
  node set (``Assert.failing``) or node by node; an error in a test is that
  rule's answer, an error in a context or a pattern condition is the answer
  of each of its assertions;
* the "stop" patterns are one stage, run node by node in the order given (the
  order of the official Schematron): a dynamic error stops the stage, which
  then reports nothing (only the rule that hit it, when the XSD does not
  already explain it), as the official Peppol XSLT does.

Findings come out in a fixed order: "shall not be used" rows first (in
document order of their paths), then every other rule in the order of its
assertion, each with its nodes in the order its context matched them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.validation.report import Finding
from gateway.validation.rules.kernel import DynamicError
from gateway.validation.rules.model import Doc, Element, location
from gateway.validation.rules.shape import Assert, Failing, Match, Pattern, Test, asserts

# Rule id -> the nodes where it fails, or the exception that stopped its test.
Failed = dict[str, "list[Element] | Exception"]

# A compiled context: its match, the paths it needs, ((id, test, failing), ...),
# and whether every assertion has its ``failing``.
_Context = tuple[Match, tuple[str, ...] | None, tuple[tuple[str, Test, Failing | None], ...], bool]
# A compiled pattern: its condition, whether its contexts overlap, its
# assertions' ids, its contexts.
_Pattern = tuple[Callable[[Doc], bool] | None, bool, tuple[str, ...], tuple[_Context, ...]]


class StageStopped(Exception):
    """The official stage would stop on this rule's test (an XPath dynamic error)."""


@dataclass(slots=True)
class Outcome:
    """What a stage of "stop" patterns found on one document."""

    failed: dict[str, list[Element]]
    # Set when the stage stopped on an XPath error the schema does not
    # explain: the rule whose test hit it (the document must be rejected).
    aborted_by: str | None = None
    reason: str = ""
    # The stage stopped (on an error the XSD explains, when not aborted_by).
    stopped: bool = False


def _compile(p: Pattern) -> _Pattern:
    contexts = tuple(
        (
            c.match,
            c.needs,
            tuple((a.id, a.test, a.failing) for a in c.asserts),
            all(a.failing is not None for a in c.asserts),
        )
        for c in p.contexts
        if c.at is None
    )
    ids = tuple(a.id for c in p.contexts for a in c.asserts)
    return (p.when, p.overlapping, ids, contexts)


def _each(nodes: list[Element], doc: Doc, test: Test) -> list[Element] | Exception | None:
    """The nodes failing ``test``, node by node (None if none); the last error if any raises."""
    failed: list[Element] | None = None  # most pass: no list unless one fails
    error: Exception | None = None
    for node in nodes:
        try:
            if test(node, doc):
                continue
        except Exception as exc:  # reported under this rule
            error = exc
            continue
        if failed is None:
            failed = [node]
        else:
            failed.append(node)
    return error if error is not None else failed


def _unseen(nodes: list[Element], seen: set[Element]) -> list[Element]:
    """The nodes no earlier context of the pattern took (now taken), in order."""
    fresh = []
    for node in nodes:
        if node not in seen:
            seen.add(node)
            fresh.append(node)
    return fresh


def report(doc: Doc, plan: tuple[_Pattern, ...], out: Failed) -> None:
    """Run "report" patterns: each error is kept for the rules it concerns."""
    reached = doc.reached
    for when, overlapping, ids, contexts in plan:
        if when is not None:
            try:
                if not when(doc):
                    continue
            except Exception as exc:
                out.update(dict.fromkeys(ids, exc))
                continue
        seen: set[Element] | None = set() if overlapping else None
        for match, needs, tests, _ in contexts:
            if needs is not None:
                for path in needs:
                    if path in reached:
                        break
                else:
                    continue  # nothing it could match is in the document
            try:
                found = match(doc)
                nodes = found if isinstance(found, list) else list(found)
            except Exception as exc:
                out.update((rule_id, exc) for rule_id, _, _ in tests)
                continue
            if seen is not None:
                nodes = _unseen(nodes, seen)
            if not nodes:
                continue
            for rule_id, test, failing in tests:
                result: list[Element] | Exception | None
                if failing is None:
                    result = _each(nodes, doc, test)
                else:
                    try:
                        result = failing(nodes, doc)
                    except Exception:  # node by node, to keep the errors as they fall
                        result = _each(nodes, doc, test)
                if result:
                    out[rule_id] = result


def stage(doc: Doc, plan: tuple[_Pattern, ...]) -> Outcome:
    """Run "stop" patterns as one stage: the first dynamic error stops it."""
    failed: dict[str, list[Element]] = {}
    current = ""
    try:
        for when, overlapping, _, contexts in plan:
            if when is not None and not when(doc):
                continue
            seen: set[Element] | None = set() if overlapping else None
            for match, _, tests, at_once in contexts:
                if at_once:
                    # no test can stop the stage: node order is free
                    nodes = list(match(doc))
                    if seen is not None:
                        nodes = _unseen(nodes, seen)
                    if nodes:
                        for rule_id, _, failing in tests:
                            found = failing(nodes, doc)  # type: ignore[misc]  # all set
                            if found:
                                failed[rule_id] = found
                    continue
                for node in match(doc):
                    if seen is not None:
                        if node in seen:
                            continue
                        seen.add(node)
                    for rule_id, test, _ in tests:
                        current = rule_id
                        if not test(node, doc):
                            known = failed.get(rule_id)
                            if known is None:
                                failed[rule_id] = [node]
                            else:
                                known.append(node)
    except DynamicError as stop:
        if stop.schema:
            # The XSD already rejects this document; like the official stage
            # we report no findings of the stage at all.
            return Outcome({}, stopped=True, reason=str(stop))
        return Outcome({}, current, str(stop), stopped=True)
    return Outcome(failed)


def _error(rule_id: str, exc: Exception) -> Finding:
    # A rule that cannot be evaluated rejects (as the official artefacts do
    # when an XPath stops), and says which rule.
    return Finding(
        rule_id,
        "fatal",
        f"rule {rule_id} could not be evaluated: {type(exc).__name__}: {exc}",
        "/",
    )


class RuleSet:
    """Patterns compiled for evaluation (see the module docstring)."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        every = asserts(patterns)
        dupes = {i for i, n in Counter(a.id for a in every).items() if n > 1}
        if dupes:
            raise ValueError(f"rule ids defined twice: {sorted(dupes)}")
        self.patterns = tuple(patterns)
        self.asserts: tuple[Assert, ...] = tuple(every)
        self.by_id = {a.id: a for a in every}
        self.rank = {a.id: i for i, a in enumerate(every)}
        self.by_path: dict[str, list[Assert]] = {}
        for p in patterns:
            for c in p.contexts:
                if c.at is not None:
                    self.by_path.setdefault(c.at, []).extend(c.asserts)
        self.reporting = tuple(_compile(p) for p in patterns if p.on_error == "report")
        self.staged = tuple(_compile(p) for p in patterns if p.on_error == "stop")
        self.stage_ids = tuple(i for p in self.staged for i in p[2])

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.by_id)

    def evaluate(self, doc: Doc) -> list[Finding]:
        out: list[Finding] = []
        by_path, index = self.by_path, doc.index
        if not by_path.keys().isdisjoint(index.keys()):
            for path, nodes in index.items():
                hits = by_path.get(path)
                if hits:
                    first = nodes[:1]
                    for a in hits:
                        result = _each(first, doc, a.test)
                        if isinstance(result, Exception):
                            out.append(_error(a.id, result))
                        elif result:
                            out.extend(
                                Finding(a.id, a.flag, a.message, location(n)) for n in result
                            )
        failed: Failed = {}
        report(doc, self.reporting, failed)
        if self.staged:
            self._stage(doc, failed)
        by_id = self.by_id
        for rule_id in sorted(failed, key=self.rank.__getitem__):
            result = failed[rule_id]
            if isinstance(result, Exception):
                out.append(_error(rule_id, result))
                continue
            a = by_id[rule_id]
            for node in result:
                out.append(Finding(rule_id, a.flag, a.message, location(node)))
        return out

    def _stage(self, doc: Doc, failed: Failed) -> None:
        try:
            outcome = stage(doc, self.staged)
        except Exception as exc:  # a bug in the stage: every rule of it says so
            failed.update(dict.fromkeys(self.stage_ids, exc))
            return
        if outcome.aborted_by is not None:
            reason = f"the official Peppol validation stops here: {outcome.reason}"
            failed[outcome.aborted_by] = StageStopped(reason)
        else:
            failed.update(outcome.failed)
