"""Which official rules the validation reproduces: named once, shown in every report.

The native rules (``gateway.validation.rules``) give the verdicts of the
Peppol BIS Billing 3.0 validation artefacts of ``RULES_RELEASE``, which bundle
the CEN EN 16931 UBL rules of ``CEN_RELEASE``. A new Peppol release changes
these two constants with the rules; reports and ``gateway --version`` read them
from here.
"""

from __future__ import annotations

from typing import Final

RULES_NAME: Final = "Peppol BIS Billing 3.0"
RULES_RELEASE: Final = "2026.5"
CEN_RELEASE: Final = "1.3.16"


def rules_json() -> dict[str, str]:
    """The rules a report was checked against, as its JSON says it."""
    return {"name": RULES_NAME, "release": RULES_RELEASE, "cen_release": CEN_RELEASE}


def describe() -> str:
    """One line for people: ``Peppol BIS Billing 3.0 release 2026.5 (EN 16931 CEN 1.3.16)``."""
    return f"{RULES_NAME} release {RULES_RELEASE} (EN 16931 CEN {CEN_RELEASE})"
