"""National rules bundled with Peppol BIS Billing 3.0 (``release.RULES_RELEASE``).

The countries of ``registry.COUNTRIES``: DE (``national_de``), DK
(``national_dk``), GR (``national_gr``), IS (``national_is``), IT and NL
(``national_it_nl``), NO and SE (``national_nordic``). Each applies only
when its Schematron context says so (seller country, buyer country, ...);
``peppol_stage`` evaluates them with the Peppol rules.
"""

from __future__ import annotations

from gateway.validation.rules.engine import Forbidden, Rule
from gateway.validation.rules.peppol_stage import rules_matching
from gateway.validation.rules.registry import FAMILY_IDS

RULES: tuple[Rule | Forbidden, ...] = rules_matching(FAMILY_IDS["national"])
