"""The XPath 2.0 behaviour every rule family relies on, reproduced once.

The official rules are XPath expressions run by Saxon; a native rule must give
the same answer on every input, partial and malformed documents included.
The families read documents through these functions only:

* string values (descendant text, comments skipped), ``normalize-space`` (only
  space, tab, CR and LF are whitespace), ``substring`` with 1-based positions;
* child-path descent over the document model (``kids``, ``below``);
* casts: ``xs:decimal`` (no exponent), ``xs:double`` (``INF``, ``NaN``,
  exponents), ``xs:boolean``, ``xs:date`` (compared by starting instant,
  implicit timezone UTC); exact decimal arithmetic, ``round()`` (halves
  towards positive infinity) and Saxon's decimal division (``saxon_div``);
* ``and`` / ``or`` as Saxon evaluates them: an operand that decides the
  result hides an error in another (``both``, ``either``).

Where XPath raises a dynamic or type error (an invalid cast, several nodes
where one is allowed) these functions raise ``DynamicError``, the one error
type of the rules: the engine turns it into a rejection, as the official run
stops its stage on one. Numbers and dates: ``kernel_numbers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from gateway.validation.rules.model import CAC, CBC, Children, Doc, Element
from gateway.validation.rules.names import Names

T = TypeVar("T")


class DynamicError(Exception):
    """An XPath dynamic or type error: the official stage stops here.

    ``schema`` is True when the cause alone makes the document invalid against
    the UBL 2.1 XSD (a non-decimal amount, a second element where UBL allows
    one): the Peppol stage then reports nothing, as the document is rejected
    whatever the rules say (``engine``).
    """

    def __init__(self, reason: str, *, schema: bool = False) -> None:
        super().__init__(reason)
        self.schema = schema


XML_SPACE: Final = " \t\n\r"
_SEVERAL: Final = "a sequence of more than one item where one is allowed"
_WS_RUN: Final = re.compile(r"[ \t\n\r]+")
_NOTHING: Final[list[Element]] = []
_NO_CHILDREN: Final[Children] = {}
_MISSING: Final = object()

# --- names -----------------------------------------------------------------------

# ``Cac.TaxScheme``, ``Cbc.ID``: Clark names as attributes (see ``names``).
Cac: Final = Names(CAC)
Cbc: Final = Names(CBC)
ID: Final = f"{{{CBC}}}ID"
_PREFIXES: Final = {"cbc": CBC, "cac": CAC}
_CLARK: dict[str, str] = {}
_CLARK_LIMIT: Final = 100_000  # names kept once seen


def cbc(local: str) -> str:
    return f"{{{CBC}}}{local}"


def cac(local: str) -> str:
    return f"{{{CAC}}}{local}"


def clark(name: str) -> str:
    """``cbc:ID`` -> ``{urn:...CommonBasicComponents-2}ID`` (kept once seen)."""
    found = _CLARK.get(name)
    if found is None:
        prefix, _, local = name.partition(":")
        found = f"{{{_PREFIXES[prefix]}}}{local}"
        if len(_CLARK) < _CLARK_LIMIT:
            _CLARK[name] = found
    return found


# --- the document: per-document memo, child-path descent ------------------------


def memo(doc: Doc, key: str, compute: Callable[..., T], *args: object) -> T:
    """``compute(doc, *args)`` once per document, kept in ``doc.cache[key]``."""
    cache = doc.cache
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = cache[key] = compute(doc, *args)
    return value  # type: ignore[no-any-return]


def anywhere(doc: Doc, tag: str) -> list[Element]:
    """``//tag``: every element named ``tag`` (a Clark name) below the root, in order."""
    return doc.by_tag.get(tag, _NOTHING)


def parent_is(e: Element, tag: str) -> bool:
    p = e.getparent()
    return p is not None and p.tag == tag


def kids(doc: Doc, e: Element, tag: str) -> list[Element]:
    """The child elements of ``e`` named ``tag`` (a Clark name), in order."""
    return doc.children.get(e, _NO_CHILDREN).get(tag, _NOTHING)


def by_tag(doc: Doc, e: Element) -> Children:
    """The element's children grouped by tag (shared: do not modify)."""
    return doc.children.get(e, _NO_CHILDREN)


def descend(
    children: dict[Element, Children], level: list[Element], tags: Iterable[str]
) -> list[Element]:
    """The elements at a relative child path (Clark names) under each of ``level``.

    The list may be the model's own: do not modify it.
    """
    for tag in tags:
        if len(level) == 1:
            level = children.get(level[0], _NO_CHILDREN).get(tag, _NOTHING)
        else:
            level = [c for p in level for c in children.get(p, _NO_CHILDREN).get(tag, _NOTHING)]
        if not level:
            return _NOTHING
    return level


def below(doc: Doc, e: Element, *tags: str) -> list[Element]:
    """Elements at a relative child path, one Clark name per step (shared: do not modify)."""
    return descend(doc.children, [e], tags)


# --- strings ---------------------------------------------------------------------


def string_value(e: Element) -> str:
    """The XPath string value of an element: all descendant text, comments left out."""
    if not len(e):
        return e.text or ""
    return "".join(str(t) for t in e.itertext())


def text_nodes(e: Element) -> list[str]:
    """The element's own text() nodes (text split by comments or children)."""
    out = [e.text] if e.text else []
    for c in e:
        if c.tail:
            out.append(c.tail)
    return out


def normalize_space(s: str) -> str:
    """``normalize-space``: XML whitespace runs become one space (not NBSP), ends trimmed."""
    if s.isalnum():  # the usual code or name: nothing to do
        return s
    if s.isascii():
        # In XML 1.0 text the only ASCII whitespace characters are the four XML ones.
        return " ".join(s.split())
    return _WS_RUN.sub(" ", s).strip(" ")


def single(nodes: list[Element], *, schema: bool = True) -> Element | None:
    """The one node a function argument allows, None for an empty sequence."""
    if not nodes:
        return None
    if len(nodes) > 1:
        raise DynamicError(_SEVERAL, schema=schema)
    return nodes[0]


def optional_string(nodes: list[Element], *, schema: bool = True) -> str | None:
    """The string of an optional single node (an ``xs:string?`` argument)."""
    e = single(nodes, schema=schema)
    return None if e is None else string_value(e)


def string(nodes: list[Element], *, schema: bool = True) -> str:
    """``string(path)`` / an ``xs:string?`` argument: '' for no node."""
    e = single(nodes, schema=schema)
    return "" if e is None else string_value(e)


def child_string(children: Children, tag: str) -> str | None:
    """String value of the one ``tag`` child (``children``: an element's children by
    tag); None if absent."""
    return optional_string(children.get(tag, _NOTHING))


def normalize_space_of(nodes: list[Element], *, schema: bool = True) -> str:
    """``normalize-space(path)``; an absent node gives ''."""
    return normalize_space(string(nodes, schema=schema))


def has_text(nodes: list[Element]) -> bool:
    """``normalize-space(path) != ''``: some character that is not XML whitespace."""
    return string(nodes).strip(XML_SPACE) != ""


def decimals_ok(nodes: list[Element], limit: int = 2) -> bool:
    """``string-length(substring-after(path, '.')) <= limit`` (the BR-DEC tests)."""
    return len(string(nodes).partition(".")[2]) <= limit


def in_list(text: str, codes: frozenset[str]) -> bool:
    """``contains(' A B ', concat(' ', normalize-space(text), ' '))`` with no space
    inside: the normalised text is one of the codes."""
    return text in codes or normalize_space(text) in codes


def text_of(nodes: list[Element], *, schema: bool = True) -> str | None:
    """``path/text()`` as one argument: None for no text node.

    Several text nodes stop the stage. Two elements where UBL allows one
    make that a schema matter; one element whose text a comment splits does not.
    """
    found = [t for e in nodes for t in text_nodes(e)]
    if len(found) > 1:
        raise DynamicError(
            "several text nodes where one is allowed", schema=schema and len(nodes) > 1
        )
    return found[0] if found else None


def substring(s: str, start: int, length: int | None = None) -> str:
    """XPath substring with 1-based positions (integer arguments only)."""
    first = max(start, 1)
    if length is None:
        return s[first - 1 :]
    end = start + length  # exclusive, 1-based
    if end <= first:
        return ""
    return s[first - 1 : end - 1]


def ebv_strings(items: list[str]) -> bool:
    """Effective boolean value of a sequence of strings (error for two or more)."""
    if not items:
        return False
    if len(items) > 1:
        raise DynamicError("no effective boolean value for several strings", schema=False)
    return items[0] != ""


# --- and / or ----------------------------------------------------------------------
# Saxon evaluates ``a and b`` left to right, but when an operand raises a dynamic
# error it still evaluates the others, and a false one (true for ``or``) decides
# the result: the error is then dropped. Operands that can fail come as thunks.

Thunk = Callable[[], bool]


def either(*operands: Thunk) -> bool:
    """XPath ``or``: true as soon as one operand is true, even when another raised
    an error; otherwise the first error, or false."""
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


def attempt(compute: Callable[[], T]) -> T | DynamicError:
    """The value, or the error computing it (to raise later, if reached)."""
    try:
        return compute()
    except DynamicError as exc:
        return exc


def ok(value: T | DynamicError) -> T:
    """The value, or raise the error the XPath would raise on reaching it."""
    if isinstance(value, DynamicError):
        raise value
    return value


# --- booleans ------------------------------------------------------------------------

_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def cast_boolean(text: str) -> bool:
    """An untyped value compared with true()/false() is cast to xs:boolean."""
    value = _BOOLEANS.get(text.strip(XML_SPACE))
    if value is None:
        raise DynamicError(f"{text!r} is not an xs:boolean")
    return value


def boolean_items_equal(nodes: Iterable[Element], value: bool) -> bool | None:
    """``path = true()/false()`` over untyped items; None on a failed cast.

    Items are cast in document order and the first match decides, as the
    comparison is evaluated lazily; an invalid item met first is an error.
    """
    for node in nodes:
        cast = _BOOLEANS.get(string_value(node).strip(XML_SPACE))
        if cast is None:
            return None
        if cast is value:
            return True
    return False
