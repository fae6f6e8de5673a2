"""PEPPOL-EN16931-* and PEPPOL-COMMON-* rules of Peppol BIS Billing 3.0 (``RULES_RELEASE``).

The rules themselves live in ``peppol_doc`` (document, parties, allowances,
currency, periods), ``peppol_lines`` (line amounts), ``peppol_icd`` (party
identifiers by scheme) and ``peppol_cl`` (code lists, date format), laid out
as the official Schematron patterns; ``peppol_stage`` evaluates them.
"""

from __future__ import annotations

from gateway.validation.rules.engine import Forbidden, Rule
from gateway.validation.rules.peppol_stage import rules_matching
from gateway.validation.rules.registry import FAMILY_IDS

RULES: tuple[Rule | Forbidden, ...] = rules_matching(FAMILY_IDS["peppol"])
