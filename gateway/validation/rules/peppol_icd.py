"""PEPPOL-COMMON-R040..R057: party identifiers checked by their ICD/EAS scheme.

An identifier is an electronic address (cbc:EndpointID), a party
identification (cac:PartyIdentification/cbc:ID) or a company identifier
(cbc:CompanyID) anywhere in the document, and its scheme is its schemeID
attribute. Each identifier is checked by the rule of its scheme only; a
Dutch VAT number (R056-2) is checked as such unless its schemeID already
named one of the schemes listed before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from gateway.validation.rules.kernel import (
    Cac,
    Cbc,
    DynamicError,
    anywhere,
    kids,
    normalize_space,
    normalize_space_of,
    parent_is,
    string_value,
)
from gateway.validation.rules.kernel_numbers import number
from gateway.validation.rules.model import Doc, Element
from gateway.validation.rules.peppol_ids import (
    abn,
    codice_fiscale,
    codice_ipa,
    gln,
    mod11,
    mod97_be,
    partita_iva,
    se_orgnr,
)
from gateway.validation.rules.shape import Assert, Context, Flag, Pattern

ENDPOINT = Cbc.EndpointID
_IDENTIFIERS: Final = "peppol.identifiers"
_NONE: Final[list[Element]] = []
_DIGITS = "0123456789"


def _identifiers(doc: Doc) -> dict[str, list[Element]]:
    """Identifier elements by schemeID; EndpointIDs also under '@endpoint:<scheme>'."""
    found: dict[str, list[Element]] = {}
    ids = [i for p in anywhere(doc, Cac.PartyIdentification) for i in kids(doc, p, Cbc.ID)]
    for e in anywhere(doc, ENDPOINT) + ids + anywhere(doc, Cbc.CompanyID):
        scheme = e.get("schemeID")
        if scheme is not None:
            found.setdefault(scheme, []).append(e)
    return found


def _scheme(scheme: str, *, endpoints_only: bool = False) -> Callable[[Doc], list[Element]]:
    def nodes(doc: Doc) -> list[Element]:
        by_scheme = doc.cache.get(_IDENTIFIERS)
        if by_scheme is None:
            by_scheme = doc.cache[_IDENTIFIERS] = _identifiers(doc)
        found = by_scheme.get(scheme, _NONE)
        return [e for e in found if e.tag == ENDPOINT] if endpoints_only and found else found

    return nodes


def _digits(s: str, n: int) -> bool:
    return len(s) == n and all(c in _DIGITS for c in s)


def _regex(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda s: compiled.fullmatch(s) is not None


# Tests on the identifier's text: ``normalized`` ones read normalize-space(),
# the others the raw string value.
def _normalized(test: Callable[[str], bool]) -> Callable[[Element, Doc], bool]:
    return lambda e, d: test(normalize_space(string_value(e)))


def _raw(test: Callable[[str], bool]) -> Callable[[Element, Doc], bool]:
    return lambda e, d: test(string_value(e))


def _dk_cvr(s: str) -> bool:
    """'DK' and eight digits, or eight digits (the format only)."""
    return (len(s) == 10 and s[:2] == "DK" and all(c in _DIGITS for c in s[2:10])) or (
        len(s) == 8 and all(c in _DIGITS for c in s)
    )


def _dk_erst(s: str) -> bool:
    """ERSTORG (0198): 'DK' followed by eight digits."""
    return len(s) == 10 and s[:2] == "DK" and all(c in _DIGITS for c in s[2:10])


def _swedish(s: str) -> bool:
    return len(s) == 10 and number(s) == number(s) and se_orgnr(s)


_NL_VAT: Final = _regex(r"NL[0-9]{9}B[0-9]{2}")
_NUMERIC: Final = _regex("[0-9]+")

# (scheme, rule id, flag, what it checks, test), in the official order.
_SCHEMES: Final[tuple[tuple[str, str, Flag, str, Callable[[Element, Doc], bool]], ...]] = (
    (
        "0088",
        "PEPPOL-COMMON-R040",
        "fatal",
        "A GLN (0088) shall have a valid GS1 check digit.",
        _normalized(lambda s: _NUMERIC(s) and gln(s)),
    ),
    (
        "0192",
        "PEPPOL-COMMON-R041",
        "fatal",
        "A Norwegian organisation number (0192) shall be nine digits with a valid check digit.",
        _normalized(lambda s: _digits(s, 9) and mod11(s)),
    ),
    (
        "0184",
        "PEPPOL-COMMON-R042",
        "fatal",
        "A Danish CVR number (0184) shall be eight digits, optionally prefixed with DK.",
        _raw(_dk_cvr),
    ),
    (
        "0096",
        "PEPPOL-COMMON-R052",
        "fatal",
        "A Danish P number (0096) shall be ten digits.",
        _raw(lambda s: _digits(s, 10)),
    ),
    (
        "0198",
        "PEPPOL-COMMON-R053",
        "fatal",
        "A Danish ERSTORG number (0198) shall be DK followed by eight digits.",
        _raw(_dk_erst),
    ),
    (
        "0208",
        "PEPPOL-COMMON-R043",
        "fatal",
        "A Belgian enterprise number (0208) shall be ten digits with a valid mod 97 check.",
        _normalized(lambda s: _digits(s, 10) and mod97_be(s)),
    ),
    (
        "0201",
        "PEPPOL-COMMON-R044",
        "warning",
        "An Italian IPA code (0201) should be six letters or digits.",
        _normalized(codice_ipa),
    ),
    (
        "0210",
        "PEPPOL-COMMON-R045",
        "warning",
        "An Italian tax code (0210) should be a valid codice fiscale.",
        _normalized(codice_fiscale),
    ),
)
_LATER: Final[tuple[tuple[str, str, Flag, str, Callable[[Element, Doc], bool]], ...]] = (
    (
        "0211",
        "PEPPOL-COMMON-R047",
        "warning",
        "An Italian VAT number (0211) should be a valid partita IVA.",
        _normalized(partita_iva),
    ),
    (
        "0007",
        "PEPPOL-COMMON-R049",
        "fatal",
        "A Swedish organisation number (0007) shall be ten digits with a valid Luhn check digit.",
        _normalized(_swedish),
    ),
    (
        "0151",
        "PEPPOL-COMMON-R050",
        "fatal",
        "An Australian Business Number (0151) shall be eleven digits with a valid check.",
        _normalized(lambda s: _digits(s, 11) and abn(s)),
    ),
    (
        "0106",
        "PEPPOL-COMMON-R054",
        "warning",
        "A Dutch KvK number (0106) should be eight digits.",
        _normalized(lambda s: _digits(s, 8)),
    ),
    (
        "0190",
        "PEPPOL-COMMON-R055",
        "warning",
        "A Dutch OIN (0190) should be twenty digits.",
        _normalized(lambda s: _digits(s, 20)),
    ),
    (
        "9944",
        "PEPPOL-COMMON-R056-1",
        "warning",
        "A Dutch VAT number (9944) should be NL, nine digits, B and two digits.",
        _normalized(_NL_VAT),
    ),
)


def _context(
    scheme: str, rule: str, flag: Flag, message: str, test: Callable[[Element, Doc], bool]
) -> Context:
    return Context(
        f"an identifier in scheme {scheme}", _scheme(scheme), (Assert(rule, flag, message, test),)
    )


def _dutch_vat_numbers(doc: Doc) -> list[Element]:
    out = []
    for e in anywhere(doc, Cbc.CompanyID):
        if not normalize_space(string_value(e)).startswith("NL") or not parent_is(
            e, Cac.PartyTaxScheme
        ):
            continue
        scheme = e.getparent()
        assert scheme is not None
        try:
            ids = [i for t in kids(doc, scheme, Cac.TaxScheme) for i in kids(doc, t, Cbc.ID)]
            if normalize_space_of(ids) != "VAT":
                continue
        except DynamicError:
            continue
        out.append(e)
    return out


IDENTIFIERS: Final = Pattern(
    (
        *(_context(*s) for s in _SCHEMES),
        Context(
            "an electronic address in scheme 9907",
            _scheme("9907", endpoints_only=True),
            (
                Assert(
                    "PEPPOL-COMMON-R046",
                    "warning",
                    "An Italian tax code address (9907) should be a valid codice fiscale.",
                    _normalized(codice_fiscale),
                ),
            ),
        ),
        *(_context(*s) for s in _LATER),
        Context(
            "a Dutch VAT identifier",
            _dutch_vat_numbers,
            (
                Assert(
                    "PEPPOL-COMMON-R056-2",
                    "warning",
                    "A Dutch VAT identifier (BT-31, BT-48, BT-63) should be NL, nine digits, "
                    "B and two digits.",
                    lambda e, d: _NL_VAT(normalize_space(string_value(e))),
                ),
            ),
        ),
        _context(
            "0217",
            "PEPPOL-COMMON-R057",
            "warning",
            "A Dutch RSIN (0217) should be twelve digits.",
            _normalized(lambda s: _digits(s, 12)),
        ),
    ),
    overlapping=True,
)
