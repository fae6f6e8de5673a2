"""Compare the native rule engine with the official verdicts in labels.jsonl.

Used by the conformance tests and, while rules are written, from the shell:

    .venv/bin/python -m tests.validation.conformance --family '^BR-CO-' [--show 20]

For every labelled document it compares the rule ids our engine fires
(restricted to ids matching the family pattern) with the label's, for fatal
and warning ids separately, and prints each difference.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway.validation.parse import classify
from gateway.validation.rules import native_findings
from tests.support import CORPUS

LABELS = CORPUS / "labels.jsonl"


@dataclass(frozen=True)
class Diff:
    path: str
    missing_fatal: frozenset[str]  # the official artefacts fire them, we do not
    extra_fatal: frozenset[str]  # we fire them, the official artefacts do not
    missing_warning: frozenset[str]
    extra_warning: frozenset[str]

    @property
    def fatal(self) -> bool:
        return bool(self.missing_fatal or self.extra_fatal)

    def __str__(self) -> str:
        parts = []
        for name in ("missing_fatal", "extra_fatal", "missing_warning", "extra_warning"):
            ids = getattr(self, name)
            if ids:
                parts.append(f"{name}={sorted(ids)}")
        return f"{self.path}: {' '.join(parts)}"


def labels() -> Iterator[dict[str, object]]:
    with open(LABELS, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _parse(path: Path) -> etree._Element:
    # The corpus is trusted test data; the hardened parser's limits would only
    # slow this loop down. Entities are still not resolved.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


def compare(family: str = ".*", *, only: frozenset[str] | None = None) -> tuple[int, list[Diff]]:
    """Differences on rule ids matching ``family`` (and in ``only``, when given)."""
    regex = re.compile(family)

    class _Pattern:
        @staticmethod
        def search(rule_id: str) -> bool:
            return bool(regex.search(rule_id)) and (only is None or rule_id in only)

    pattern = _Pattern()
    diffs = []
    count = 0
    for label in labels():
        count += 1
        path = str(label["path"])
        root = _parse(CORPUS / path)
        findings = native_findings(root, classify(root))
        ours_f = {f.id for f in findings if f.flag == "fatal" and pattern.search(f.id)}
        ours_w = {f.id for f in findings if f.flag == "warning" and pattern.search(f.id)}
        theirs_f = {i for i in label["fatal"] if pattern.search(i)}  # type: ignore[attr-defined]
        theirs_w = {i for i in label["warning"] if pattern.search(i)}  # type: ignore[attr-defined]
        if ours_f != theirs_f or ours_w != theirs_w:
            diffs.append(
                Diff(
                    path,
                    frozenset(theirs_f - ours_f),
                    frozenset(ours_f - theirs_f),
                    frozenset(theirs_w - ours_w),
                    frozenset(ours_w - theirs_w),
                )
            )
    return count, diffs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--family", default=".*", help="regex on rule ids, e.g. '^BR-CO-'")
    p.add_argument("--show", type=int, default=30, help="differences to print")
    args = p.parse_args()
    count, diffs = compare(args.family)
    fatal = [d for d in diffs if d.fatal]
    for d in diffs[: args.show]:
        print(d)
    by_rule: dict[str, int] = {}
    for d in diffs:
        for i in d.missing_fatal | d.extra_fatal | d.missing_warning | d.extra_warning:
            by_rule[i] = by_rule.get(i, 0) + 1
    print("rules with differences:", dict(sorted(by_rule.items(), key=lambda kv: -kv[1])[:40]))
    print(
        f"{count} documents; fatal sets agree on {count - len(fatal)}; "
        f"fatal and warning sets agree on {count - len(diffs)}"
    )


if __name__ == "__main__":
    main()
