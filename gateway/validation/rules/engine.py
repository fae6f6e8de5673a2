"""The native rule engine: rules as small named units, evaluated over one
``Doc`` built once per document.

A rule is a ``Rule`` record: its official id, flag and message, and a check
that yields the nodes where the rule fails (its context nodes, as the
Schematron would report them). Families of rules live in sibling modules,
each exporting ``RULES``; ``ALL_RULES`` in ``__init__`` lists them in order.

"Shall not be used" rules (most of UBL-CR) are data: ``Forbidden`` records
with a root-relative path. The engine answers all of them in one pass over
the paths the document actually has, instead of one query per rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from gateway.validation.report import Finding
from gateway.validation.rules.model import Doc, Element, location

Flag = Literal["fatal", "warning"]
Check = Callable[[Doc], Iterable[Element]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    flag: Flag
    message: str
    check: Check = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Forbidden:
    """Fails wherever an element (or ``.../@attribute``) exists at ``path``."""

    id: str
    flag: Flag
    message: str
    path: str


class RuleSet:
    """Rules compiled for evaluation: checks in order, presence rules by path."""

    def __init__(self, rules: Sequence[Rule | Forbidden]) -> None:
        ids = [r.id for r in rules]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"rule ids defined twice: {sorted(dupes)}")
        self.rules = tuple(rules)
        self.checks = tuple(r for r in rules if isinstance(r, Rule))
        self.by_path: dict[str, list[Forbidden]] = {}
        for r in rules:
            if isinstance(r, Forbidden):
                self.by_path.setdefault(r.path, []).append(r)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.rules)

    def evaluate(self, doc: Doc) -> list[Finding]:
        out: list[Finding] = []
        by_path = self.by_path
        for path, nodes in doc.index.items():
            hits = by_path.get(path)
            if hits:
                for r in hits:
                    out.append(Finding(r.id, r.flag, r.message, location(nodes[0])))
        for rule in self.checks:
            try:
                failed = list(rule.check(doc))
            except Exception as exc:
                # A rule that cannot be evaluated rejects (as the official
                # artefacts do when an XPath stops), and says which rule.
                out.append(
                    Finding(
                        rule.id,
                        "fatal",
                        f"rule {rule.id} could not be evaluated: {type(exc).__name__}: {exc}",
                        "/",
                    )
                )
                continue
            for node in failed:
                out.append(Finding(rule.id, rule.flag, rule.message, location(node)))
        return out
