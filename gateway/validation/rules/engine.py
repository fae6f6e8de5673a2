"""The native rule engine: rules as small named units, evaluated over one
``Doc`` built once per document.

A rule is a ``Rule`` record: its official id, flag and message, and a check
that yields the nodes where the rule fails (its context nodes, as the
Schematron would report them). Families of rules live in sibling modules,
each exporting ``RULES``; ``FAMILIES`` in ``__init__`` lists them in order.

Rules checked together (a family evaluated in one pass, a Schematron stage)
share a ``Batch``: one function that answers every rule of the batch at once
(rule id -> the nodes where it fails, only for the rules that fail). The
engine calls it once per document instead of asking each rule in turn; the
rule's own ``check`` reads its part of the same answer, so a rule still works
on its own.

"Shall not be used" rules (most of UBL-CR) are data: ``Forbidden`` records
with a root-relative path. The engine answers all of them in one pass over
the paths the document actually has, instead of one query per rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from gateway.validation.report import Finding
from gateway.validation.rules.model import Doc, Element, location

Flag = Literal["fatal", "warning"]
Check = Callable[[Doc], Iterable[Element]]
# Rule id -> the nodes where it fails, or the exception that stopped its test
# (reported under that id). Rules that pass are left out.
Answers = Mapping[str, "Sequence[Element] | Exception"]


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """Several rules answered by one evaluation per document (kept in ``doc.cache``)."""

    key: str
    answer: Callable[[Doc], Answers] = field(repr=False)

    def answers(self, doc: Doc) -> Answers:
        found: Answers | None = doc.cache.get(self.key)
        if found is None:
            found = doc.cache[self.key] = self.answer(doc)
        return found

    def reader(self, rule_id: str) -> Check:
        """The check of one rule of the batch: its part of the answer."""

        def check(doc: Doc) -> Sequence[Element]:
            found = self.answers(doc).get(rule_id, ())
            if isinstance(found, Exception):
                raise found
            return found

        return check


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    flag: Flag
    message: str
    check: Check = field(repr=False, compare=False)
    # Set when the rule is answered with others (``check`` then reads the batch).
    batch: Batch | None = field(default=None, repr=False, compare=False)


def batched(rule_id: str, flag: Flag, message: str, batch: Batch) -> Rule:
    """A rule whose failures ``batch`` computes."""
    return Rule(rule_id, flag, message, batch.reader(rule_id), batch)


_Step = Callable[[Doc, dict[str, "Sequence[Element] | Exception"]], None]


def _batch_step(batch: Batch, members: frozenset[str]) -> _Step:
    def step(doc: Doc, out: dict[str, Sequence[Element] | Exception]) -> None:
        try:
            found = batch.answer(doc)
        except Exception as exc:
            out.update(dict.fromkeys(members, exc))
            return
        for rule_id, failed in found.items():
            if failed and rule_id in members:
                out[rule_id] = failed

    return step


def _check_step(rule_id: str, check: Check) -> _Step:
    def step(doc: Doc, out: dict[str, Sequence[Element] | Exception]) -> None:
        try:
            failed = check(doc)
            if not isinstance(failed, list | tuple):
                failed = list(failed)  # a generator: its errors show here
            if failed:
                out[rule_id] = failed
        except Exception as exc:
            out[rule_id] = exc

    return step


def together(key: str, rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """The same rules, answered in one batch.

    For a family of small checks: the engine then makes one call per
    document for all of them. Each check is called once, in order; rules
    that already share a batch are answered by one call of it. An exception
    in a check is that rule's answer (in a batch: of all its rules).
    """
    order: list[Rule | Batch] = []
    members: dict[int, set[str]] = {}
    for r in rules:
        if r.batch is None:
            order.append(r)
        else:
            if id(r.batch) not in members:
                members[id(r.batch)] = set()
                order.append(r.batch)
            members[id(r.batch)].add(r.id)
    plan = tuple(
        _batch_step(s, frozenset(members[id(s)]))
        if isinstance(s, Batch)
        else _check_step(s.id, s.check)
        for s in order
    )

    def answer(doc: Doc) -> Answers:
        out: dict[str, Sequence[Element] | Exception] = {}
        for step in plan:
            step(doc, out)
        return out

    batch = Batch(key, answer)
    return tuple(batched(r.id, r.flag, r.message, batch) for r in rules)


@dataclass(frozen=True, slots=True)
class Forbidden:
    """Fails wherever an element (or ``.../@attribute``) exists at ``path``."""

    id: str
    flag: Flag
    message: str
    path: str


def _error(rule: Rule, exc: Exception) -> Finding:
    # A rule that cannot be evaluated rejects (as the official artefacts do
    # when an XPath stops), and says which rule.
    return Finding(
        rule.id,
        "fatal",
        f"rule {rule.id} could not be evaluated: {type(exc).__name__}: {exc}",
        "/",
    )


_FIRST = itemgetter(0)


class RuleSet:
    """Rules compiled for evaluation: checks in order, batches once, presence rules by path.

    Findings come out in the same order whatever the batching: presence
    rules first (in document order of their paths), then every other rule in
    the order given, each with its nodes in the order its check yields them.
    """

    def __init__(self, rules: Sequence[Rule | Forbidden]) -> None:
        dupes = {i for i, n in Counter(r.id for r in rules).items() if n > 1}
        if dupes:
            raise ValueError(f"rule ids defined twice: {sorted(dupes)}")
        self.rules = tuple(rules)
        checks = [r for r in rules if isinstance(r, Rule)]
        # (position, rule) for rules asked one by one; batches with their members.
        self.checks = tuple((i, r) for i, r in enumerate(checks) if r.batch is None)
        batches: dict[int, tuple[Batch, dict[str, tuple[int, Rule]]]] = {}
        for i, c in enumerate(checks):
            if c.batch is not None:
                batches.setdefault(id(c.batch), (c.batch, {}))[1][c.id] = (i, c)
        self.batches = tuple(batches.values())
        self.by_path: dict[str, list[Forbidden]] = {}
        for f in rules:
            if isinstance(f, Forbidden):
                self.by_path.setdefault(f.path, []).append(f)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.rules)

    def evaluate(self, doc: Doc) -> list[Finding]:
        out: list[Finding] = []
        by_path = self.by_path
        index = doc.index
        if not by_path.keys().isdisjoint(index.keys()):
            for path, nodes in index.items():
                hits = by_path.get(path)
                if hits:
                    for r in hits:
                        out.append(Finding(r.id, r.flag, r.message, location(nodes[0])))
        found: list[tuple[int, Finding]] = []
        for batch, members in self.batches:
            try:
                answers = batch.answers(doc)
            except Exception as exc:  # a bug in the batch: every member says so
                found.extend((i, _error(r, exc)) for i, r in members.values())
                continue
            for rule_id, failed in answers.items():
                member = members.get(rule_id)
                if member is None:
                    continue
                i, rule = member
                if isinstance(failed, Exception):
                    found.append((i, _error(rule, failed)))
                    continue
                for node in failed:
                    found.append((i, Finding(rule_id, rule.flag, rule.message, location(node))))
        for i, rule in self.checks:
            try:
                failed_nodes = list(rule.check(doc))
            except Exception as exc:
                found.append((i, _error(rule, exc)))
                continue
            for node in failed_nodes:
                found.append((i, Finding(rule.id, rule.flag, rule.message, location(node))))
        found.sort(key=_FIRST)
        out.extend(f for _, f in found)
        return out
