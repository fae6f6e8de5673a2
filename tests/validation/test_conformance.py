"""The native engine against the official 2026.5 verdicts on 1,749 documents.

Each family's implemented rules must fire exactly where the official
artefacts fire them (fatal and warning alike), on every labelled document.
"""

from __future__ import annotations

import re

import pytest

from gateway.validation.rules import FAMILIES, FAMILY_IDS
from gateway.validation.rules.shape import asserts
from tests.support import require_corpus
from tests.validation.conformance import compare

IMPLEMENTED = [name for name, rules in FAMILIES.items() if rules]


def test_every_rule_belongs_to_its_family() -> None:
    """Each rule family defines only rules whose ids match that family's pattern."""
    for name, rules in FAMILIES.items():
        pattern = re.compile(FAMILY_IDS[name])
        strays = [r.id for r in asserts(rules) if not pattern.search(r.id)]
        assert not strays, f"{name} defines rules of another family: {strays}"


@pytest.mark.parametrize("family", IMPLEMENTED)
def test_family_agrees_with_official_verdicts(family: str) -> None:
    """Each implemented rule family fires exactly where the official artefacts fire its rules
    (fatal and warning) on all 1,749 labelled documents."""
    require_corpus()
    ids = frozenset(r.id for r in asserts(FAMILIES[family]))
    count, diffs = compare(FAMILY_IDS[family], only=ids)
    assert count == 1749
    shown = "\n".join(str(d) for d in diffs[:25])
    assert not diffs, f"{len(diffs)} documents disagree on {family} rules:\n{shown}"


def test_whole_engine_agrees_on_every_document() -> None:
    """The acceptance bar: on every labelled document, the set of fatal ids
    (and of warnings) of the native engine equals the official artefacts'."""
    require_corpus()
    count, diffs = compare(".*")
    assert count == 1749
    shown = "\n".join(str(d) for d in diffs[:25])
    assert not diffs, f"{len(diffs)} documents disagree:\n{shown}"
