"""PEPPOL-EN16931-* and PEPPOL-COMMON-* rules of Peppol BIS Billing 3.0 (``RULES_RELEASE``).

The rules themselves live in ``peppol_doc`` (document, parties, allowances,
currency, periods), ``peppol_lines`` (line amounts), ``peppol_icd`` (party
identifiers by scheme) and ``peppol_cl`` (code lists, date format), written
as the official Schematron patterns (``shape``). With the national patterns
they are one Peppol stage (``registry.STAGE_PATTERNS``): the engine runs
them together and stops them together on a dynamic error.
"""

from __future__ import annotations

from typing import Final

from gateway.validation.rules.registry import PEPPOL_PATTERNS
from gateway.validation.rules.shape import Pattern

RULES: Final[tuple[Pattern, ...]] = PEPPOL_PATTERNS
