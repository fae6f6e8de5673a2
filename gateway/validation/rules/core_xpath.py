"""XPath 2.0 semantics the EN 16931 rules depend on, reproduced exactly.

The official rules are XPath expressions run by Saxon over the document; a
native rule must give the same answer on every input, including partial and
malformed documents. This module holds the few pieces of XPath behaviour the
``core`` and ``codelists`` families share:

* string values (all descendant text, comments skipped) and ``normalize-space``
  (only space, tab, CR and LF are whitespace);
* casts: ``xs:decimal`` and ``xs:double`` (untypedAtomic compared with a
  number), ``xs:boolean`` (untypedAtomic compared with ``true()``), ``xs:date``;
  an invalid value, or more than one value where one is expected, is a dynamic
  error: ``DynamicError`` is raised, and the engine turns it into a rejection,
  as the official run stops its stage on one;
* ``or`` / ``and`` as Saxon evaluates them: an operand that decides the result
  (true for ``or``, false for ``and``) hides an error in the other;
* exact decimal arithmetic and ``round()`` (half towards positive infinity).

An error while matching a context pattern stops the stage as well (Saxon
raises it), so context getters raise too. Where Saxon's order of evaluation
decides whether an error shows, the rules follow what Saxon does (checked by
running the official XSLT on crafted documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_FLOOR, Decimal
from decimal import Context as DecimalContext
from typing import Final

from gateway.validation.rules.model import CAC, CBC, Element
from gateway.validation.rules.xpath import decimal as xs_decimal


class DynamicError(Exception):
    """An XPath dynamic or type error: the official stage would stop here."""


# Decimal arithmetic as XPath's xs:decimal: exact (no precision limit).
EXACT: Final = DecimalContext(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_HALF: Final = Decimal("0.5")

_PREFIXES: Final = {"cbc": CBC, "cac": CAC}
_XML_WS: Final = " \t\r\n"
_SEVERAL: Final = "a sequence of more than one item where one is allowed"
_WS_RUN: Final = re.compile(r"[ \t\r\n]+")
_DOUBLE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DOUBLE_SPECIAL: Final = {"INF": float("inf"), "+INF": float("inf"), "-INF": float("-inf")}
_DATE: Final = re.compile(
    r"(-?(?:[1-9][0-9]{4,}|[0-9]{4}))-([0-9]{2})-([0-9]{2})"
    r"(Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?"
)
_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def clark(name: str) -> str:
    """``cbc:ID`` -> ``{urn:...CommonBasicComponents-2}ID``."""
    prefix, _, local = name.partition(":")
    return f"{{{_PREFIXES[prefix]}}}{local}"


# --- strings ---------------------------------------------------------------


def sv(element: Element) -> str:
    """The XPath string value of an element: all descendant text, in order."""
    if len(element) == 0:
        return element.text or ""
    return "".join(str(t) for t in element.itertext())


def nspace(text: str) -> str:
    """XPath ``normalize-space``: only space, tab, CR and LF count as whitespace."""
    if text.isascii():
        # In XML 1.0 text the only ASCII whitespace characters are these four.
        return " ".join(text.split())
    return _WS_RUN.sub(" ", text).strip(_XML_WS)


def single(nodes: list[Element]) -> str | None:
    """The string of an optional single node (``xs:string?`` argument)."""
    if not nodes:
        return None
    if len(nodes) > 1:
        raise DynamicError(_SEVERAL)
    element = nodes[0]
    if len(element) == 0:
        return element.text or ""
    return "".join(str(t) for t in element.itertext())


def nspace_of(nodes: list[Element]) -> str:
    """``normalize-space(path)``; an absent node gives ''."""
    text = single(nodes)
    return "" if text is None else nspace(text)


def filled(nodes: list[Element]) -> bool:
    """``normalize-space(path) != ''``: some character that is not XML whitespace."""
    if not nodes:
        return False
    if len(nodes) > 1:
        raise DynamicError(_SEVERAL)
    e = nodes[0]
    text = (e.text or "") if not len(e) else "".join(str(t) for t in e.itertext())
    return text.strip(_XML_WS) != ""


def decimals_ok(nodes: list[Element], limit: int = 2) -> bool:
    """``string-length(substring-after(path, '.')) <= limit`` (the BR-DEC tests)."""
    if not nodes:
        return True
    if len(nodes) > 1:
        raise DynamicError(_SEVERAL)
    e = nodes[0]
    text = (e.text or "") if not len(e) else "".join(str(t) for t in e.itertext())
    return len(text.partition(".")[2]) <= limit


def in_list(text: str, codes: frozenset[str]) -> bool:
    """``contains(' A B ', concat(' ', normalize-space(text), ' '))`` with no space
    inside: the normalised text is one of the codes (the list's own codes hold
    no whitespace, so an exact hit needs no normalising)."""
    return text in codes or nspace(text) in codes


# --- casts -----------------------------------------------------------------


def to_decimal(text: str) -> Decimal:
    """Cast an untyped value to xs:decimal (whitespace collapsed), else fail."""
    value = xs_decimal(text)
    if value is None:
        raise DynamicError(f"cannot cast {text!r} to xs:decimal")
    return value


def decimal_of(nodes: list[Element]) -> Decimal | None:
    """``xs:decimal(path)``: None for the empty sequence."""
    if not nodes:
        return None
    if len(nodes) > 1:
        raise DynamicError(_SEVERAL)
    e = nodes[0]
    text = (e.text or "") if not len(e) else "".join(str(t) for t in e.itertext())
    value = xs_decimal(text)
    if value is None:
        raise DynamicError(f"cannot cast {text!r} to xs:decimal")
    return value


def to_double(text: str) -> float:
    """Cast an untyped value to xs:double (what a comparison with a number does)."""
    s = text.strip(_XML_WS)
    digits = s.replace(".", "", 1)
    if (digits.isdigit() and digits.isascii()) or _DOUBLE.fullmatch(s):
        return float(s)
    if s == "NaN":
        return float("nan")
    special = _DOUBLE_SPECIAL.get(s)
    if special is None:
        raise DynamicError(f"cannot cast {text!r} to xs:double")
    return special


def any_at_least_zero(nodes: list[Element]) -> bool:
    """The general comparison ``path >= 0``: true when some item is >= 0.

    Items are cast in order until one compares true. Saxon orders an untyped
    NaN above every number here (Java's ``Double.compare``), so 'NaN' >= 0.
    """
    for node in nodes:
        value = to_double(sv(node))
        if value >= 0 or value != value:
            return True
    return False


def boolean_items_equal(nodes: Iterable[Element], value: bool) -> bool | None:
    """``path = true()/false()`` over untyped items; None on a failed cast.

    Items are cast in document order and the first match decides, as the
    comparison is evaluated lazily; an invalid item met first is an error.
    """
    for node in nodes:
        cast = _BOOLEANS.get(sv(node).strip(_XML_WS))
        if cast is None:
            return None
        if cast is value:
            return True
    return False


def _days_from_civil(year: int, month: int, day: int) -> int:
    # Proleptic Gregorian day count (any year, including year 0 and negative).
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_MONTH_DAYS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def to_date_key(text: str) -> int:
    """Cast to xs:date and return its starting instant in minutes, for ordering.

    A date without a timezone takes the implicit timezone, taken as UTC.
    Saxon accepts timezones up to +/-14:59.
    """
    m = _DATE.fullmatch(text.strip(_XML_WS))
    if m is None:
        raise DynamicError(f"cannot cast {text!r} to xs:date")
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12:
        raise DynamicError(f"cannot cast {text!r} to xs:date")
    last = 29 if month == 2 and _leap(year) else _MONTH_DAYS[month - 1]
    if not 1 <= day <= last:
        raise DynamicError(f"cannot cast {text!r} to xs:date")
    tz = m.group(4)
    offset = 0
    if tz and tz != "Z":
        offset = (int(tz[1:3]) * 60 + int(tz[4:6])) * (1 if tz[0] == "+" else -1)
    return _days_from_civil(year, month, day) * 1440 - offset


def date_of(nodes: list[Element]) -> int:
    text = single(nodes)
    assert text is not None  # callers test existence first
    return to_date_key(text)


# --- boolean operators ----------------------------------------------------

Thunk = Callable[[], bool]


def either(*operands: Thunk) -> bool:
    """XPath ``or`` as Saxon evaluates it: true as soon as one operand is true,
    even when another raised an error; otherwise the first error, or false."""
    error: DynamicError | None = None
    for operand in operands:
        try:
            if operand():
                return True
        except DynamicError as exc:
            error = error or exc
    if error is not None:
        raise error
    return False


def both(*operands: Thunk) -> bool:
    """XPath ``and``: false as soon as one operand is false, errors elsewhere
    notwithstanding; otherwise the first error, or true."""
    error: DynamicError | None = None
    for operand in operands:
        try:
            if not operand():
                return False
        except DynamicError as exc:
            error = error or exc
    if error is not None:
        raise error
    return True


# --- arithmetic ------------------------------------------------------------


def xround(value: Decimal) -> Decimal:
    """XPath ``round()`` on xs:decimal: half towards positive infinity."""
    return EXACT.add(value, _HALF).to_integral_value(rounding=ROUND_FLOOR)


def round2(value: Decimal) -> Decimal:
    """``round(value * 10 * 10) div 100``, exactly."""
    return EXACT.scaleb(xround(EXACT.scaleb(value, 2)), -2)


def total(values: Iterable[Decimal | None]) -> Decimal:
    """``sum()`` of xs:decimal items (empty items are absent from the sequence)."""
    out = Decimal(0)
    for v in values:
        if v is not None:
            out = EXACT.add(out, v)
    return out
