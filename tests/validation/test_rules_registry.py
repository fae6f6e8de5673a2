"""The registry: one line per country drives the national family and the Peppol stage."""

from __future__ import annotations

import re

from gateway.validation.rules import FAMILIES, FAMILY_IDS, national, peppol, rule_set
from gateway.validation.rules.registry import COUNTRIES, STAGE_PATTERNS
from gateway.validation.rules.shape import asserts as ids

PATTERNS = STAGE_PATTERNS


def test_each_country_of_the_registry_owns_exactly_its_national_rules() -> None:
    """A country's patterns carry only its own rule ids, and the national family
    answers for every one of them (and for nothing else)."""
    national_ids = re.compile(FAMILY_IDS["national"])
    for country in COUNTRIES:
        found = [a.id for a in ids(country.patterns)]
        assert found, country.code
        assert all(i.startswith(country.code + "-") for i in found), country.code
        assert all(national_ids.search(i) for i in found)
    stage_national = {a.id for a in ids(PATTERNS) if national_ids.search(a.id)}
    assert {r.id for r in ids(national.RULES)} == stage_national
    assert {a.id for c in COUNTRIES for a in ids(c.patterns)} == stage_national


def test_the_peppol_stage_runs_every_registered_country_once_between_the_peppol_patterns() -> None:
    """The stage is the Peppol patterns around the countries, in registry order."""
    national_patterns = [p for c in COUNTRIES for p in c.patterns]
    assert list(PATTERNS[4:-1]) == national_patterns
    assert len(set(map(id, PATTERNS))) == len(PATTERNS)
    peppol_ids = re.compile(FAMILY_IDS["peppol"])
    assert all(peppol_ids.search(r.id) for r in ids(peppol.RULES))
    assert list(FAMILIES) == list(FAMILY_IDS)


def test_the_engine_runs_the_peppol_stage_in_the_official_order() -> None:
    """The full rule set runs the stage's patterns (the only ones that stop together on a dynamic
    error) in the order of the official Schematron, the countries before the Peppol code lists."""
    staged = [p for p in rule_set().patterns if p.on_error == "stop"]
    assert [id(p) for p in staged] == [id(p) for p in PATTERNS]
