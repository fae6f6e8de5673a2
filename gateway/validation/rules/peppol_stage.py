"""The Peppol BIS stage: every Peppol and national pattern, evaluated once per document.

``peppol.RULES`` and ``national.RULES`` are engine ``Rule`` records whose
checks read their id's failures from this one evaluation, so the two
families share the document-wide values and the official all-or-nothing
behaviour of the stage.
"""

from __future__ import annotations

import re
from typing import Final

from gateway.validation.rules.engine import Answers, Batch, Rule, batched
from gateway.validation.rules.model import Doc
from gateway.validation.rules.peppol_pattern import Outcome, compile_patterns, ids, run
from gateway.validation.rules.registry import STAGE_PATTERNS

# In the order of the official Schematron (see ``registry``).
PATTERNS: Final = STAGE_PATTERNS

_PLAN: Final = compile_patterns(PATTERNS)


class StageStopped(Exception):
    """The official stage would stop on this rule's test (an XPath dynamic error)."""


_KEY: Final = "peppol.outcome"


def stage(doc: Doc) -> Outcome:
    """The stage's outcome on ``doc``, evaluated once."""
    outcome: Outcome | None = doc.cache.get(_KEY)
    if outcome is None:
        outcome = doc.cache[_KEY] = run(doc, _PLAN)
    return outcome


def _answer(doc: Doc) -> Answers:
    outcome = stage(doc)
    if outcome.aborted_by is not None:
        stopped = StageStopped(f"the official Peppol validation stops here: {outcome.reason}")
        return {outcome.aborted_by: stopped}
    return outcome.failed


# The whole stage, answered once per document for both families.
STAGE: Final = Batch("peppol.stage", _answer)


def rules_matching(pattern: str) -> tuple[Rule, ...]:
    """Engine rules for the stage's assertions whose id matches ``pattern``."""
    wanted = re.compile(pattern)
    return tuple(
        batched(a.id, a.flag, a.message, STAGE) for a in ids(PATTERNS) if wanted.search(a.id)
    )
