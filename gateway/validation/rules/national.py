"""National rules bundled with Peppol BIS Billing 3.0, release 2026.5.

DE (``national_de``), DK (``national_dk``), GR (``national_gr``), IT and NL
(``national_it_nl``), NO, SE and IS (``national_nordic``). Each applies only
when its Schematron context says so (seller country, buyer country, ...);
``peppol_stage`` evaluates them with the Peppol rules.
"""

from __future__ import annotations

from gateway.validation.rules.engine import Forbidden, Rule
from gateway.validation.rules.peppol_stage import rules_matching

RULES: tuple[Rule | Forbidden, ...] = rules_matching(r"^(DE|DK|GR|IS|IT|NL|NO|SE)-")
