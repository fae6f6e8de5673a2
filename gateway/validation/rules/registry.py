"""The one list of rule families and of the countries of the Peppol stage.

``FAMILY_IDS`` (which rule ids each family answers for), the national
family's ids and the patterns of the Peppol stage, in the order of the
official Schematron, are all derived from the tables here. Adding a country
is one module of patterns plus one line in ``COUNTRIES`` (with its import):
see the package docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.validation.rules.national_de import GERMANY
from gateway.validation.rules.national_dk import DENMARK
from gateway.validation.rules.national_gr import GREECE, GREECE_BOTH
from gateway.validation.rules.national_is import ICELAND
from gateway.validation.rules.national_it_nl import ITALY, NETHERLANDS
from gateway.validation.rules.national_nordic import NORWAY, SWEDEN
from gateway.validation.rules.peppol_cl import CODES
from gateway.validation.rules.peppol_doc import EMPTY, PROJECT, TRANSACTION
from gateway.validation.rules.peppol_icd import IDENTIFIERS
from gateway.validation.rules.shape import Pattern


@dataclass(frozen=True, slots=True)
class Country:
    """A country's rules in the Peppol stage: their id prefix (``DE`` for
    ``DE-R-001``) and its Schematron patterns, in their official order."""

    code: str
    patterns: tuple[Pattern, ...]


# In the order of the official Schematron (the stage evaluates them so).
COUNTRIES: Final[tuple[Country, ...]] = (
    Country("NO", (NORWAY,)),
    Country("DK", (DENMARK,)),
    Country("IT", (ITALY,)),
    Country("SE", (SWEDEN,)),
    Country("GR", (GREECE, GREECE_BOTH)),
    Country("IS", (ICELAND,)),
    Country("NL", (NETHERLANDS,)),
    Country("DE", (GERMANY,)),
)

# The Peppol family's patterns, and the Peppol stage: the Peppol patterns
# with the national ones between them (the engine runs them in this order).
PEPPOL_PATTERNS: Final[tuple[Pattern, ...]] = (EMPTY, PROJECT, TRANSACTION, IDENTIFIERS, CODES)
STAGE_PATTERNS: Final[tuple[Pattern, ...]] = (
    *PEPPOL_PATTERNS[:-1],
    *(p for country in COUNTRIES for p in country.patterns),
    PEPPOL_PATTERNS[-1],
)

# Which rule ids belong to which family, in the order the families run: each
# family's rules are checked against the official verdicts on exactly these.
FAMILY_IDS: Final[dict[str, str]] = {
    "ubl_syntax": r"^UBL-(CR|SR|DT)-",
    "core": r"^BR-([0-9]|CO-|DEC-)",
    "codelists": r"^BR-CL-",
    "vat": r"^BR-(S|Z|E|AE|IC|G|O|AF|AG|B)-",
    "peppol": r"^PEPPOL-",
    "national": "^(" + "|".join(sorted(c.code for c in COUNTRIES)) + ")-",
}
