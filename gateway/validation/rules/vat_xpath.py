"""The XPath 2.0 value semantics the VAT category rules rely on.

The official rules compare strings after ``normalize-space``, cast texts to
``xs:decimal`` or (in arithmetic and comparisons with numbers) to
``xs:double``, and read booleans from ``cbc:ChargeIndicator``. Where the
XPath would stop with a dynamic error (a text that is not a number, two
values where one is expected) these helpers raise ``XPathError``: the engine
turns that into a fatal finding for the rule, as the official stage rejects
the document. Values that several rules read are computed once and kept as
``value | XPathError``; ``ok`` raises the error only when a rule reaches it,
as the XPath evaluation would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_FLOOR, Context, Decimal
from typing import Final, TypeVar

from gateway.validation.rules.model import CBC, Children, Element
from gateway.validation.rules.xpath import decimal as xs_decimal

T = TypeVar("T")

XML_WS: Final = " \t\r\n"
_WS_RUN: Final = re.compile(r"[ \t\r\n]+")
_DOUBLE: Final = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|INF)|NaN"
)
_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}

# xs:decimal arithmetic is exact: enough digits that no sum or product of
# document amounts is ever rounded.
EXACT: Final = Context(prec=4000, Emax=999_999, Emin=-999_999)

ID: Final = f"{{{CBC}}}ID"


class XPathError(Exception):
    """Where the official XPath raises a dynamic or type error."""


def attempt(compute: Callable[[], T]) -> T | XPathError:
    """The value, or the error computing it (to raise later, if reached)."""
    try:
        return compute()
    except XPathError as exc:
        return exc


def ok(value: T | XPathError) -> T:
    """The value, or raise the error the XPath would raise on reaching it."""
    if isinstance(value, XPathError):
        raise value
    return value


def either(*operands: Callable[[], bool]) -> bool:
    """XPath ``or``. Saxon answers true when one operand is true even if
    another raises (the operand order is its choice); an error only when no
    operand is true."""
    error: XPathError | None = None
    for operand in operands:
        try:
            if operand():
                return True
        except XPathError as exc:
            error = error or exc
    if error is not None:
        raise error
    return False


def both(*operands: Callable[[], bool]) -> bool:
    """XPath ``and``: false when one operand is false, even if another raises."""
    error: XPathError | None = None
    for operand in operands:
        try:
            if not operand():
                return False
        except XPathError as exc:
            error = error or exc
    if error is not None:
        raise error
    return True


def normalize_space(text: str) -> str:
    """fn:normalize-space: XML whitespace only (not NBSP), runs collapsed."""
    if text.isalnum():  # the usual code or name: nothing to do
        return text
    if text.isascii():
        # In XML 1.0 text the only ASCII whitespace characters are the four XML ones.
        return " ".join(text.split())
    return _WS_RUN.sub(" ", text).strip(" ")


def string_value(element: Element) -> str:
    """The XPath string value: all descendant text, comments excluded."""
    if len(element) == 0:
        return element.text or ""
    return "".join(t if isinstance(t, str) else t.decode() for t in element.itertext())


def single_string(kids: Children, tag: str) -> str | None:
    """String value of the one ``tag`` child (``kids``: an element's children
    by tag, ``Doc.children``); None if absent; error if several."""
    found = kids.get(tag)
    if not found:
        return None
    if len(found) > 1:
        raise XPathError(f"more than one {tag} where one value is expected")
    return string_value(found[0])


def cast_decimal(text: str) -> Decimal:
    """``xs:decimal(text)`` (an untyped value): error when not a decimal."""
    value = xs_decimal(text)
    if value is None:
        raise XPathError(f"{text!r} is not an xs:decimal")
    return value


def cast_double(text: str) -> float:
    """An untyped value cast to xs:double (arithmetic, numeric comparison)."""
    s = text.strip(XML_WS)
    digits = s.replace(".", "", 1)
    if digits.isdigit() and digits.isascii():  # the usual unsigned decimal
        return float(s)
    if not _DOUBLE.fullmatch(s):
        raise XPathError(f"{text!r} is not an xs:double")
    return float(s)


def untyped_above(text: str, limit: float, *, inclusive: bool) -> bool:
    """An untyped value compared ``>`` (or ``>=``) with a number.

    The value is cast to xs:double. Saxon, which produced the official
    verdicts, orders NaN above every number in this comparison (so
    ``'NaN' > 0`` is true there), and so do we.
    """
    value = cast_double(text)
    if math.isnan(value):
        return True
    return value >= limit if inclusive else value > limit


def cast_boolean(text: str) -> bool:
    """An untyped value compared with true()/false() is cast to xs:boolean."""
    value = _BOOLEANS.get(text.strip(XML_WS))
    if value is None:
        raise XPathError(f"{text!r} is not an xs:boolean")
    return value


def decimal_child(kids: Children, tag: str) -> Decimal | None:
    """``xs:decimal(tag)``: None when absent (the empty sequence)."""
    found = kids.get(tag)
    if not found:
        return None
    if len(found) > 1:
        raise XPathError(f"more than one {tag} where one value is expected")
    e = found[0]
    text = (e.text or "") if not len(e) else string_value(e)
    value = xs_decimal(text)
    if value is None:
        raise XPathError(f"{text!r} is not an xs:decimal")
    return value


def decimal_of(elements: list[Element]) -> Decimal | None:
    """``xs:decimal`` of the elements a path selected: None for none, an
    error for several."""
    if not elements:
        return None
    if len(elements) > 1:
        raise XPathError("more than one value where one is expected")
    return cast_decimal(string_value(elements[0]))


def double_to_decimal(value: float) -> Decimal:
    """``xs:decimal(xs:double)``: exact binary value; NaN and INF are errors."""
    if math.isnan(value) or math.isinf(value):
        raise XPathError(f"{value} cannot be cast to xs:decimal")
    return Decimal(value)


def round_half_up(value: Decimal) -> Decimal:
    """fn:round on xs:decimal: halves go towards positive infinity."""
    return EXACT.add(value, Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
