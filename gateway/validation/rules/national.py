"""National rules bundled with Peppol BIS Billing 3.0 (``release.RULES_RELEASE``).

The countries of ``registry.COUNTRIES``: DE (``national_de``), DK
(``national_dk``), GR (``national_gr``), IS (``national_is``), IT and NL
(``national_it_nl``), NO and SE (``national_nordic``). Each applies only
when its Schematron context says so (seller country, buyer country, ...);
the engine runs them in the Peppol stage, with the Peppol patterns.
"""

from __future__ import annotations

from typing import Final

from gateway.validation.rules.registry import COUNTRIES
from gateway.validation.rules.shape import Pattern

RULES: Final[tuple[Pattern, ...]] = tuple(p for country in COUNTRIES for p in country.patterns)
