"""The Peppol BIS stage: every Peppol and national pattern, evaluated once per document.

``peppol.RULES`` and ``national.RULES`` are engine ``Rule`` records whose
checks read their id's failures from this one evaluation, so the two
families share the document-wide values and the official all-or-nothing
behaviour of the stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from gateway.validation.rules.engine import Check, Rule
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.national_de import GERMANY
from gateway.validation.rules.national_dk import DENMARK
from gateway.validation.rules.national_gr import GREECE, GREECE_BOTH
from gateway.validation.rules.national_is import ICELAND
from gateway.validation.rules.national_it_nl import ITALY, NETHERLANDS
from gateway.validation.rules.national_nordic import NORWAY, SWEDEN
from gateway.validation.rules.peppol_cl import CODES
from gateway.validation.rules.peppol_doc import EMPTY, PROJECT, TRANSACTION
from gateway.validation.rules.peppol_icd import IDENTIFIERS
from gateway.validation.rules.peppol_pattern import Outcome, Pattern, evaluate, ids

# In the order of the official Schematron.
PATTERNS: Final[tuple[Pattern, ...]] = (
    EMPTY,
    PROJECT,
    TRANSACTION,
    IDENTIFIERS,
    NORWAY,
    DENMARK,
    ITALY,
    SWEDEN,
    GREECE,
    GREECE_BOTH,
    ICELAND,
    NETHERLANDS,
    GERMANY,
    CODES,
)


class StageStopped(Exception):
    """The official stage would stop on this rule's test (an XPath dynamic error)."""


_KEY: Final = "peppol.stage"


def stage(doc: Doc) -> Outcome:
    outcome: Outcome | None = doc.cache.get(_KEY)
    if outcome is None:
        outcome = evaluate(doc, PATTERNS)
        doc.cache[_KEY] = outcome
    return outcome


def _reader(rule_id: str) -> Check:
    def check(doc: Doc) -> Iterable[Element]:
        outcome: Outcome = doc.cache.get(_KEY) or stage(doc)
        if outcome.aborted_by == rule_id:
            raise StageStopped(f"the official Peppol validation stops here: {outcome.reason}")
        return outcome.failed.get(rule_id, ())

    return check


def rules_matching(pattern: str) -> tuple[Rule, ...]:
    """Engine rules for the stage's assertions whose id matches ``pattern``."""
    wanted = re.compile(pattern)
    return tuple(
        Rule(a.id, a.flag, a.message, _reader(a.id)) for a in ids(PATTERNS) if wanted.search(a.id)
    )
