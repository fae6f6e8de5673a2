"""Identifier check digits used by the Peppol BIS and national rules.

Each function is the published algorithm in the exact form the official
rule applies it, including how it treats input outside the identifier's
format (the rules usually check the format first; where they do not, the
behaviour on stray characters matters and is kept).
"""

from __future__ import annotations

import re
from typing import Final

from gateway.validation.rules.kernel import DynamicError, substring
from gateway.validation.rules.kernel_numbers import castable_integer, number

_ASCII_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ASCII_ALNUM: Final = _ASCII_LETTERS + "0123456789"
_UNICODE_DIGITS = re.compile(r"\d+")  # XPath's \d: any Unicode decimal digit
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{0,30}")
_XML_SPACE_CHARS = re.compile(r"[ \t\n\r]")
_LUHN_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # digit sum of 2 x d


def _xmod(a: int, b: int) -> int:
    """XPath ``mod`` on integers: the result takes the sign of the dividend."""
    r = abs(a) % b
    return -r if a < 0 else r


def _digit(ch: str) -> float:
    """``number()`` of one character: its value for an ASCII digit, else NaN."""
    return float(ord(ch) - 48) if "0" <= ch <= "9" and len(ch) == 1 else float("nan")


def _last_digit(val: str) -> float:
    return _digit(val[-1]) if val else float("nan")


def gln(val: str) -> bool:
    """GS1 check digit (GLN, GTIN): weights 3,1,3,... from the right, mod 10."""
    body = [ord(c) - 48 for c in reversed(val[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return _xmod(10 - _xmod(total, 10), 10) == _last_digit(val)


def mod11(val: str) -> bool:
    """Norwegian organisation number: weights 2..7 repeating from the right, mod 11.

    A remainder that would need check digit 10 never validates; zero is not a number.
    """
    body = [ord(c) - 48 for c in reversed(val[:-1])]
    total = sum(d * (i % 6 + 2) for i, d in enumerate(body))
    if not number(val) > 0:
        return False
    return _xmod(11 - _xmod(total, 11), 11) == _last_digit(val)


def mod97_be(val: str) -> bool:
    """Belgian enterprise number (0208): last two digits = 97 - (first eight mod 97)."""
    head = substring(val, 1, 8)
    if not castable_integer(head):
        return False
    return number(substring(val, 9, 2)) == 97 - _xmod(int(head), 97)


def codice_ipa(val: str) -> bool:
    """Italian IPA office code (0201): six ASCII letters or digits."""
    return len(val) == 6 and all(c in _ASCII_ALNUM for c in val)


def _letters(s: str) -> bool:
    return all(c in _ASCII_LETTERS for c in s)


def codice_fiscale(val: str) -> bool:
    """Italian tax code (0210, 9907): 16 characters in the personal layout, or 11 digits."""
    if len(val) == 11:
        return castable_integer(val)
    if len(val) != 16:
        return False
    return (
        _letters(val[0:6])
        and castable_integer(val[6:8])
        and _letters(val[8])
        and castable_integer(val[9:11])
        and castable_integer(val[14])
        and _letters(val[15])
    )


def _piva_sum(digits: str) -> int:
    """Digit sum with every second digit doubled (digits of the double added)."""
    total = 0
    doubled = False
    rest = digits
    while castable_integer(rest):
        first = rest[0]
        if not castable_integer(first):
            # The official function casts the first character to an integer:
            # a sign or a space there is a dynamic error.
            raise DynamicError(f"{first!r} in a partita IVA is not a digit", schema=False)
        d = int(first)
        total += int("0246813579"[d]) if doubled else d
        doubled = not doubled
        rest = rest[1:]
    return total


def partita_iva(val: str) -> bool:
    """Italian VAT number (0211): with prefix IT/it, 11 digits whose Luhn-style sum is 0 mod 10.

    Any other prefix passes: the rule only checks Italian numbers.
    """
    if val[:2] not in ("IT", "it"):
        return True
    code = val[2:]
    if len(code) != 11:
        return False
    if not castable_integer(code):
        return False
    return _piva_sum(code) % 10 == 0


def abn(val: str) -> bool:
    """Australian Business Number (0151): first digit minus one, weights 10,1,3,..,19, mod 89."""
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    if len(val) < 11:
        return False
    total = (ord(val[0]) - 49) * 10
    total += sum((ord(c) - 48) * w for c, w in zip(val[1:11], weights[1:], strict=True))
    return total % 89 == 0


def greek_tin(val: str) -> bool:
    """Greek tax number (AFM): weights 256..2 on the first eight digits, mod 11 mod 10.

    Only the first nine characters count; each must be an ASCII digit.
    """
    head = val[:9]
    if len(head) < 9 or not (head.isascii() and head.isdigit()):
        return False
    total = sum(int(d) << (9 - k) for k, d in enumerate(head[:8], start=1))
    return (total % 11) % 10 == int(head[8])


def se_orgnr(val: str) -> bool:
    """Swedish organisation number: Luhn check digit in position ten.

    Digits other than ASCII ones pass the official digit test but break its
    arithmetic, which stops the stage.
    """
    if not _UNICODE_DIGITS.fullmatch(val):
        return False
    main = val[:9]
    if not main.isascii():
        raise DynamicError("a Swedish organisation number has non-ASCII digits", schema=False)
    digits = [ord(ch) - 48 for ch in main]
    # from the right: the 1st, 3rd, ... digits doubled (their digit sum), the others as is
    total = sum(_LUHN_DOUBLED[d] for d in digits[-1::-2]) + sum(digits[-2::-2])
    return (10 - total % 10) % 10 == _digit(val[9:10])


def iban(raw: str) -> bool:
    """IBAN mod 97 as the German rules compute it (letters after the country
    code count by code point, so lower case letters give other numbers)."""
    s = _XML_SPACE_CHARS.sub("", raw)
    if not _IBAN.fullmatch(s):
        return False
    moved = s[4:] + s[:2].upper() + s[2:4]
    digits = "".join(str(ord(c) - 55) if ord(c) > 64 else str(ord(c) - 48) for c in moved)
    return int(digits) % 97 == 1
