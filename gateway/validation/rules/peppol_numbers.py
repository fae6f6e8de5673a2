"""XPath number and date semantics the Peppol rules rely on.

* ``xs:decimal`` casts and exact decimal arithmetic; Saxon divides decimals at
  ``max(18, scale(a) - scale(b) + 18)`` places, rounding half down, where an
  integer-looking text that fits a Java int keeps scale 0 and every other
  value loses its trailing zeros first.
* ``number()`` is xs:double parsing (``INF``, exponents) with NaN on failure.
* ``xs:date`` comparisons compare starting instants (implicit timezone UTC).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_FLOOR, Context, Decimal
from typing import Final

from gateway.validation.rules.model import Element
from gateway.validation.rules.peppol_xpath import XML_SPACE, Abort, single, sv, text_of
from gateway.validation.rules.xpath import decimal

_DOUBLE = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"(-?)([0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_INT_MAX: Final = 2**31 - 1
_INF: Final = float("inf")
# Decimal arithmetic of the rules is exact; this context only has to be wide
# enough for any amount a document can carry.
EXACT: Final = Context(prec=2000, Emax=10**9, Emin=-(10**9))


def xs_decimal(text: str) -> Decimal | None:
    """``xs:decimal`` of a string; None when the cast fails."""
    return decimal(text)


def decimal_of(nodes: list[Element]) -> Decimal | None:
    """``xs:decimal(path)`` of a decimal-typed UBL element; None for no node.

    A second node or a text that is not a decimal stops the stage; both make
    the document fail the XSD (amounts, quantities and numerics are decimals).
    """
    if not nodes:
        return None
    if len(nodes) > 1:
        raise Abort("a sequence of more than one item where one is allowed", schema=True)
    e = nodes[0]
    text = (e.text or "") if not len(e) else sv(e)
    value = decimal(text)
    if value is None:
        raise Abort(f"{text!r} is not an xs:decimal", schema=True)
    return value


def saxon_scale(text: str) -> int:
    """The scale Saxon gives a decimal cast from ``text`` (which must be one).

    A non-negative integer text that fits a Java int keeps scale 0; any other
    value is held with its trailing zeros stripped (``3000.0`` has scale -3).
    """
    s = text.strip(XML_SPACE)
    if "." not in s and "-" not in s and int(s) <= _INT_MAX:
        return 0
    value = Decimal(s)
    if not value:
        return 0
    return -int(value.normalize().as_tuple().exponent)


def saxon_div(a: Decimal, scale_a: int, b: Decimal, scale_b: int) -> Decimal:
    """``a div b`` as Saxon computes xs:decimal division (b must not be zero)."""
    if b == 1:
        return a  # the scale is at least a's own: the quotient is exact
    scale = max(18, scale_a - scale_b + 18)
    na, da = a.as_integer_ratio()
    nb, db = b.as_integer_ratio()
    numerator, denominator = na * db * 10**scale, da * nb
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder > denominator:  # half down: an exact half stays
        quotient += 1
    return Decimal(-quotient if numerator < 0 else quotient).scaleb(-scale, context=EXACT)


def xpath_round(value: Decimal) -> Decimal:
    """XPath 2.0 ``round``: to the nearest integer, halves towards +infinity."""
    return EXACT.add(value, Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR, context=EXACT)


def xs_double(text: str) -> float | None:
    """``xs:double`` cast of a string (NaN and INF included); None when it fails."""
    s = text.strip(XML_SPACE)
    digits = s.replace(".", "", 1)
    if digits.isdigit() and digits.isascii():  # the usual unsigned decimal
        return float(s)
    if s == "NaN":
        return float("nan")
    if not _DOUBLE.fullmatch(s):
        return None
    if s.endswith("INF"):
        # Saxon does not read INF with trailing but no leading whitespace.
        if text[:1] not in XML_SPACE and text[-1:] in XML_SPACE:
            return None
        return float("-inf") if s[0] == "-" else float("inf")
    return float(s)


def number(text: str) -> float:
    """XPath ``number()`` of a string: xs:double, NaN when it is not one."""
    value = xs_double(text)
    return float("nan") if value is None else value


def compare_untyped(nodes: list[Element], op: Callable[[float], bool]) -> bool:
    """``path op 0`` for a general comparison of untyped nodes with an integer.

    Each node is cast to xs:double in document order until one satisfies the
    comparison; a node that does not cast stops the stage (they are amounts).
    Saxon orders a NaN read this way above every number, so it is taken as
    +infinity here.
    """
    for e in nodes:
        value = xs_double(sv(e))
        if value is None:
            raise Abort(f"{sv(e)!r} is not a number", schema=True)
        if op(_INF if value != value else value):
            return True
    return False


def number_of(nodes: list[Element], *, schema: bool = True) -> float:
    e = single(nodes, schema=schema)
    return float("nan") if e is None else number(sv(e))


def castable_integer(s: str) -> bool:
    return _INTEGER.fullmatch(s.strip(XML_SPACE)) is not None


# --- dates -------------------------------------------------------------------


def _days(year: int, month: int, day: int) -> int:
    """Days from 0000-03-01 in the proleptic Gregorian calendar (any year)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_MONTH_DAYS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _date(text: str) -> tuple[int, int, int, int] | None:
    """(year, month, day, timezone offset in minutes) of an xs:date, None if not one."""
    m = _DATE.fullmatch(text.strip(XML_SPACE))
    if m is None:
        return None
    sign, ys, ms, ds, tz = m.groups()
    if len(ys) > 4 and ys[0] == "0":
        return None
    year = int(ys)
    if year > _INT_MAX:
        return None
    year = -year if sign else year
    month, day = int(ms), int(ds)
    if not 1 <= month <= 12 or day < 1:
        return None
    last = 29 if month == 2 and _leap(year) else _MONTH_DAYS[month - 1]
    if day > last:
        return None
    offset = 0
    if tz and tz != "Z":
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 14 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * (-1 if tz[0] == "-" else 1)
    return year, month, day, offset


def date_instant(text: str) -> int | None:
    """Minutes from a fixed origin to the start of the xs:date, None if not a date."""
    parts = _date(text)
    if parts is None:
        return None
    year, month, day, offset = parts
    return _days(year, month, day) * 1440 - offset


def castable_date(text: str) -> bool:
    return _date(text) is not None


def date_of(nodes: list[Element], what: str, *, text_only: bool = False) -> int | None:
    """``xs:date(path)`` of a date-typed element; None for no node (or no text())."""
    if text_only:
        raw = text_of(nodes)
        if raw is None:
            return None
    else:
        e = single(nodes, schema=False)
        if e is None:
            return None
        raw = sv(e)
    value = date_instant(raw)
    if value is None:
        raise Abort(f"{what} {raw!r} is not an xs:date", schema=True)
    return value
