"""Scheme checks for participant identifiers, by ISO 6523 ICD.

Pure: a ParticipantId (or its text) in, ``None`` or the reason it is wrong
out. Check digits catch typos before an id reaches the directory or a
lookup; a wrong id there means an invoice routed to nobody, or to paper.
Values arrive lower-cased (ParticipantId), so letters are matched in lower
case. ICDs without a rule here are accepted as they are: the ISO 6523 list
is long and an unknown scheme is not an error.

The check-digit helpers are public so tests and benchmarks can make valid
ids the same way the checks verify them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.model import InvalidIdentifier, ParticipantId

# La Poste's establishments outnumber what five digits allow under Luhn, so
# INSEE numbers its SIRETs by another rule: the digit sum is a multiple of 5.
# Its SIREN and head office SIRET (35600000000048) are ordinary Luhn numbers.
LA_POSTE_SIREN = "356000000"

_DIGITS = re.compile(r"[0-9]+")
# 0225: the SIREN alone, or SIREN_suffix (SIREN_SIRET, SIREN_SIRET_routing
# code, SIREN_free suffix: the French directory's addressing forms).
_FR_ADDRESS = re.compile(r"([0-9]{9})(?:_([0-9a-z._\-]+(?:_[0-9a-z._\-]+)*))?")
# 0204 Leitweg-ID (KoSIT Formatspezifikation 2.0): coarse address of 2-12
# digits, optional fine address of up to 30 letters or digits, 2 check digits.
_LEITWEG = re.compile(r"([0-9]{2,12})(?:-([0-9a-z]{1,30}))?-([0-9]{2})")
# 0242 OpenPeppol Service Provider Identification Scheme: the 6-digit seat
# number, optionally -unit and .sub-unit (regex_spis of the Peppol MLS 1.0.1
# Schematron, applied case-insensitively there, to lower-case values here).
_SPIS = re.compile(r"[0-9]{6}(?:-[0-9a-z_]{3,12}(?:\.[0-9a-z\-._~]{3,24})?)?")


# --- check digits -----------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass Luhn."""
    return next(d for d in "0123456789" if luhn_ok(body + d))


def gs1_digit(body: str) -> str:
    """GS1 mod-10 check digit: weights 3, 1, 3, ... from the right of the body."""
    total = sum((ord(c) - 48) * (1 if i % 2 else 3) for i, c in enumerate(reversed(body)))
    return str(-total % 10)


def fr_vat_key(siren: str) -> str:
    """The two-digit key of a French VAT number (FRkk + SIREN)."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def be_check(body: str) -> str:
    """Belgian enterprise number: 97 - (first 8 digits mod 97), two digits."""
    return f"{97 - int(body) % 97:02d}"


_NO_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def no_digit(body: str) -> str | None:
    """Norwegian org number mod-11 digit for 8 digits; None where none exists."""
    rest = sum(w * (ord(c) - 48) for w, c in zip(_NO_WEIGHTS, body, strict=True)) % 11
    check = (11 - rest) % 11
    return None if check == 10 else str(check)


def _mod97_number(text: str) -> int:
    # ISO 7064 MOD 97-10 reads letters as two-digit numbers, A=10 ... Z=35.
    return int("".join(c if c.isdigit() else str(ord(c) - 87) for c in text))


def leitweg_check(grob: str, fein: str = "") -> str:
    """The two check digits of a Leitweg-ID (ISO 7064 MOD 97-10)."""
    return f"{98 - _mod97_number(grob + fein.lower()) * 100 % 97:02d}"


# --- per scheme ---------------------------------------------------------------------

Rule = Callable[[str], str | None]


def _digits(value: str, count: int, what: str) -> str | None:
    if len(value) != count or not _DIGITS.fullmatch(value):
        return f"{what} must be {count} digits, got {value!r}"
    return None


def _gln(v: str) -> str | None:
    bad = _digits(v, 13, "a GLN")
    if bad:
        return bad
    return None if gs1_digit(v[:12]) == v[12] else "GLN check digit is wrong (GS1 mod 10)"


def _siren(v: str) -> str | None:
    bad = _digits(v, 9, "a SIREN")
    if bad:
        return bad
    return None if luhn_ok(v) else "SIREN check digit is wrong (Luhn)"


def _siret(v: str) -> str | None:
    bad = _digits(v, 14, "a SIRET")
    if bad:
        return bad
    if luhn_ok(v):
        return None
    if v[:9] == LA_POSTE_SIREN and sum(ord(c) - 48 for c in v) % 5 == 0:
        return None
    return "SIRET check digit is wrong (Luhn)"


def _fr_address(v: str) -> str | None:
    m = _FR_ADDRESS.fullmatch(v)
    if m is None:
        return (
            f"a French e-invoicing address must be SIREN or SIREN_suffix "
            f"(suffix of letters, digits, '.', '-', '_'), got {v!r}"
        )
    return _siren(m.group(1))


def _fr_vat(v: str) -> str | None:
    if len(v) != 13 or not v.startswith("fr") or not _DIGITS.fullmatch(v[2:]):
        return f"a French VAT number must be FR, a 2-digit key and the SIREN, got {v!r}"
    bad = _siren(v[4:])
    if bad:
        return bad
    return None if fr_vat_key(v[4:]) == v[2:4] else "French VAT key does not match the SIREN"


def _be_number(v: str) -> str | None:
    bad = _digits(v, 10, "a Belgian enterprise number")
    if bad:
        return bad
    if v[0] not in "01":
        return "a Belgian enterprise number starts with 0 or 1"
    return None if be_check(v[:8]) == v[8:] else "Belgian enterprise number fails mod 97"


def _be_vat(v: str) -> str | None:
    if not v.startswith("be"):
        return f"a Belgian VAT number must be BE and the enterprise number, got {v!r}"
    return _be_number(v[2:])


def _no_org(v: str) -> str | None:
    bad = _digits(v, 9, "a Norwegian organisation number")
    if bad:
        return bad
    return None if no_digit(v[:8]) == v[8] else "Norwegian organisation number fails mod 11"


def _se_org(v: str) -> str | None:
    bad = _digits(v, 10, "a Swedish organisation number")
    if bad:
        return bad
    return None if luhn_ok(v) else "Swedish organisation number check digit is wrong (Luhn)"


def _leitweg(v: str) -> str | None:
    m = _LEITWEG.fullmatch(v)
    if m is None:
        return (
            "a Leitweg-ID must be 2-12 digits, an optional '-' and up to 30 letters or "
            f"digits, then '-' and 2 check digits, got {v!r}"
        )
    grob, fein, check = m.groups()
    ok = _mod97_number(grob + (fein or "") + check) % 97 == 1
    return None if ok else "Leitweg-ID check digits are wrong (ISO 7064 MOD 97-10)"


def _spis(v: str) -> str | None:
    if _SPIS.fullmatch(v):
        return None
    return f"a Peppol service provider id must be 6 digits[-unit[.sub-unit]], got {v!r}"


RULES: dict[str, Rule] = {
    "0088": _gln,
    "0002": _siren,
    "0009": _siret,
    "0225": _fr_address,
    "9957": _fr_vat,
    "0208": _be_number,
    "9925": _be_vat,
    "0192": _no_org,
    "0007": _se_org,
    "0204": _leitweg,
    "0242": _spis,
}


def check(pid: ParticipantId | str) -> str | None:
    """None when ``pid`` passes its scheme's check, else why it does not."""
    if isinstance(pid, str):
        try:
            pid = ParticipantId.parse(pid)
        except InvalidIdentifier as exc:
            return str(exc)
    rule = RULES.get(pid.scheme)
    if rule is None:
        return None
    return rule(pid.value)
