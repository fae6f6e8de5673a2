"""XPath numbers and dates, as Saxon computes them (see ``kernel``).

* ``xs:decimal``: optional sign, digits and one point, surrounding XML
  whitespace, no exponent; arithmetic is exact (``EXACT``); ``round()`` takes
  halves towards positive infinity; Saxon divides decimals at
  ``max(18, scale(a) - scale(b) + 18)`` places, rounding half down, where an
  integer-looking text that fits a Java int keeps scale 0 and every other
  value loses its trailing zeros first (``saxon_scale``, ``saxon_div``).
* ``xs:double``: exponents, ``INF`` and ``NaN``; ``number()`` gives NaN where
  the cast fails. Saxon orders an untyped NaN above every number in a
  comparison (Java's ``Double.compare``), so ``'NaN' > 0`` is true.
* ``xs:date``: compared by starting instant, the implicit timezone UTC; years
  of any size up to a Java int, timezones up to +/-14:59.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_FLOOR, Decimal
from decimal import Context as DecimalContext
from typing import Final

from gateway.validation.rules.kernel import (
    XML_SPACE,
    DynamicError,
    optional_string,
    single,
    string_value,
    text_of,
)
from gateway.validation.rules.model import Children, Element

# Decimal arithmetic as XPath's xs:decimal: exact (no precision limit).
EXACT: Final = DecimalContext(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_HALF: Final = Decimal("0.5")
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE: Final = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF)")
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_DATE: Final = re.compile(r"(-?)([0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_INT_MAX: Final = 2**31 - 1
_INF: Final = float("inf")
_NOTHING: Final[list[Element]] = []

# --- xs:decimal -------------------------------------------------------------------

# Text -> its cast: amounts repeat within a document and from one family to
# the next. Bounded (entries and text length); values are immutable, so
# documents checked at the same time share them safely.
_CASTS: dict[str, Decimal | None] = {}
_CASTS_LIMIT: Final = 20_000
_CAST_TEXT_LIMIT: Final = 40
_UNCAST: Final = object()


def decimal(text: str) -> Decimal | None:
    """The ``xs:decimal`` cast of an untyped value: None when it is not one."""
    found = _CASTS.get(text, _UNCAST)
    if found is not _UNCAST:
        return found  # type: ignore[return-value]
    s = text.strip(XML_SPACE)
    digits = s.replace(".", "", 1)
    if digits.isdigit() and digits.isascii():  # the usual amount: no sign
        value: Decimal | None = Decimal(s)
    else:
        value = Decimal(s) if _DECIMAL.fullmatch(s) else None
    if len(_CASTS) < _CASTS_LIMIT and len(text) <= _CAST_TEXT_LIMIT:
        _CASTS[text] = value
    return value


def to_decimal(text: str, *, schema: bool = True) -> Decimal:
    """``xs:decimal(text)``: an error when the text is not a decimal."""
    value = decimal(text)
    if value is None:
        raise DynamicError(f"{text!r} is not an xs:decimal", schema=schema)
    return value


def decimal_of(nodes: list[Element]) -> Decimal | None:
    """``xs:decimal(path)``: None for no node.

    A second node or a text that is not a decimal is an error; both make the
    document fail the XSD (amounts, quantities and numerics are decimals).
    """
    e = single(nodes)
    return None if e is None else to_decimal(string_value(e))


def decimal_child(children: Children, tag: str) -> Decimal | None:
    """``xs:decimal(tag)`` of an element's child (``children``: by tag)."""
    return decimal_of(children.get(tag, _NOTHING))


def xround(value: Decimal) -> Decimal:
    """XPath ``round()`` on xs:decimal: halves towards positive infinity."""
    return EXACT.add(value, _HALF).to_integral_value(rounding=ROUND_FLOOR, context=EXACT)


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


# --- xs:double ----------------------------------------------------------------------


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


def to_double(text: str, *, schema: bool = True) -> float:
    """An untyped value cast to xs:double (arithmetic, comparison with a number)."""
    value = xs_double(text)
    if value is None:
        raise DynamicError(f"{text!r} is not an xs:double", schema=schema)
    return value


def number(text: str) -> float:
    """XPath ``number()`` of a string: xs:double, NaN when it is not one."""
    value = xs_double(text)
    return float("nan") if value is None else value


def number_of(nodes: list[Element], *, schema: bool = True) -> float:
    e = single(nodes, schema=schema)
    return float("nan") if e is None else number(string_value(e))


def double_to_decimal(value: float) -> Decimal:
    """``xs:decimal(xs:double)``: exact binary value; NaN and INF are errors."""
    if math.isnan(value) or math.isinf(value):
        raise DynamicError(f"{value} cannot be cast to xs:decimal")
    return Decimal(value)


def compare_untyped(nodes: list[Element], op: Callable[[float], bool]) -> bool:
    """``path op n`` for a general comparison of untyped nodes with a number.

    Each node is cast to xs:double in document order until one satisfies the
    comparison; a node that does not cast is an error. A NaN counts as
    +infinity (Saxon's order).
    """
    for e in nodes:
        value = to_double(string_value(e))
        if op(_INF if value != value else value):
            return True
    return False


def _at_least_zero(value: float) -> bool:
    return value >= 0


def any_at_least_zero(nodes: list[Element]) -> bool:
    """The general comparison ``path >= 0``."""
    return compare_untyped(nodes, _at_least_zero)


def untyped_above(text: str, limit: float, *, inclusive: bool) -> bool:
    """One untyped value compared ``>`` (or ``>=``) with a number (NaN: true)."""
    value = to_double(text)
    if value != value:
        return True
    return value >= limit if inclusive else value > limit


def castable_integer(s: str) -> bool:
    return _INTEGER.fullmatch(s.strip(XML_SPACE)) is not None


# --- xs:date ----------------------------------------------------------------------------


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


def to_date(text: str, what: str = "date") -> int:
    """``xs:date(text)`` as its starting instant (minutes): an error when not a date."""
    value = date_instant(text)
    if value is None:
        raise DynamicError(f"{what} {text!r} is not an xs:date", schema=True)
    return value


def date_of(nodes: list[Element], what: str = "date", *, text_only: bool = False) -> int | None:
    """``xs:date(path)`` of a date-typed element; None for no node (or no text())."""
    raw = text_of(nodes) if text_only else optional_string(nodes, schema=False)
    return None if raw is None else to_date(raw, what)


def date_key(nodes: list[Element]) -> int:
    """``xs:date(path)`` of an element the caller knows is there."""
    value = date_of(nodes)
    assert value is not None  # callers test existence first
    return value
