"""The one hardened XML parser of the gateway, and the check of the root element.

Every document from outside (API, AS4 peers, the CLI) enters through
:func:`parse_xml`. It refuses, with the exception the edges map to HTTP
statuses and ebMS codes:

* ``PayloadTooLarge``: more bytes than ``limits.max_document_bytes``;
* ``NotXml``: empty or not well-formed input (with line and column);
* ``HostileXml``: any DOCTYPE (so no DTD, entity expansion, external or
  parameter entity), libxml2 resource limits (entity amplification, text nodes
  over 10 MB), nesting deeper than ``limits.max_depth``, more elements than
  ``limits.max_elements``, more attributes on one element than
  ``limits.max_attributes_per_element``, or more attributes and namespace
  declarations in all than ``limits.max_attributes``.

The counts are kept while parsing, so a flood is refused at the limit, not
after a whole tree of it has been built.

Nothing is ever fetched: entities are not substituted, no DTD is loaded, the
network is off, XInclude is never processed, and a resolver refuses whatever
libxml2 might still ask for.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from lxml import etree

from gateway.config.settings import LimitSettings
from gateway.errors import HostileXml, InputError, NotXml, PayloadTooLarge, UnknownDocument
from gateway.model import UBL_CREDITNOTE_NS, UBL_INVOICE_NS, DocumentKind

# libxml2 refuses nesting deeper than this unless XML_PARSE_HUGE (huge_tree) is
# set, which we never do. A configured max_depth above it therefore cannot
# take effect: 256 is the ceiling.
LIBXML2_MAX_DEPTH = 256
# libxml2 refuses text nodes over 10,000,000 bytes unless huge_tree is on. An
# invoice with a large embedded attachment (a scanned PDF) has one, so larger
# documents are parsed with huge_tree: safe here because entities are never
# expanded and DTDs are refused, and our own depth check then applies in full.
LIBXML2_MAX_TEXT = 10_000_000

_ROOTS = {
    f"{{{UBL_INVOICE_NS}}}Invoice": DocumentKind.INVOICE,
    f"{{{UBL_CREDITNOTE_NS}}}CreditNote": DocumentKind.CREDIT_NOTE,
}

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,  # keep &x; as a reference, never expand or fetch it
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,  # keep libxml2's own limits: depth 256, text nodes of 10 MB
}

# Error types that mean "the document attacks the parser", not "it is broken".
_HOSTILE_ERRORS = frozenset({etree.ErrorTypes.ERR_RESOURCE_LIMIT, etree.ErrorTypes.ERR_ENTITY_LOOP})

# Encodings in which every "<" is the byte 0x3C and no other character
# contains that byte. Only for these is data.count(b"<") an upper bound on
# the number of elements (UTF-7, for one, may spell "<" as "+ADw-").
_ASCII_SUPERSETS = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "latin1", "latin-1", "windows-1252", "cp1252"}
    | {f"iso-8859-{n}" for n in range(1, 17)}
    | {f"iso8859-{n}" for n in range(1, 17)}
)
_XML_DECL = re.compile(rb"<\?xml\s([^?>]*)")
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
# Chunk size of the streaming path: the most that is parsed past a limit.
_CHUNK = 64 * 1024


class _RefuseAll(etree.Resolver):
    """Answers every external lookup with nothing, and remembers it was asked.

    With the options above libxml2 should never ask; this makes sure that if
    it ever does (a future option, a libxml2 change) nothing is read.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]
        self.asked.append(system_url or public_id or "?")
        return self.resolve_string(b"", context, base_url=None)


def parse_xml(data: bytes, limits: LimitSettings) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise an ``InputError``."""
    if len(data) > limits.max_document_bytes:
        raise PayloadTooLarge(
            f"document is {len(data)} bytes; the limit is {limits.max_document_bytes} bytes",
            size=len(data),
            limit=limits.max_document_bytes,
        )
    if not data or data.isspace():
        raise NotXml("document is empty", line=1, column=1)
    if _within_limits(data, limits):
        # The common case: no count can exceed its limit, so let libxml2
        # build the tree in one call, several times cheaper than events.
        huge = len(data) > LIBXML2_MAX_TEXT
        root = _parse_whole(data, huge=huge)
        _check_depth(root, limits.max_depth, huge=huge)
    else:
        root = _parse_streaming(data, limits)
    return root


def classify(root: etree._Element) -> DocumentKind:
    """Which UBL 2.1 document this is; ``UnknownDocument`` for any other root."""
    kind = _ROOTS.get(root.tag)
    if kind is None:
        name = etree.QName(root)
        namespace = f"namespace {name.namespace!r}" if name.namespace else "no namespace"
        raise UnknownDocument(
            f"root element {name.localname!r} in {namespace} is not a UBL 2.1 Invoice "
            f"({UBL_INVOICE_NS}) or CreditNote ({UBL_CREDITNOTE_NS})",
            root=root.tag,
        )
    return kind


def _within_limits(data: bytes, limits: LimitSettings) -> bool:
    """True when byte counts prove that no count limit can be reached.

    Every element starts with "<" and every attribute or namespace
    declaration has an "=", so counting those bytes bounds them, as long as
    they are the bytes 0x3C and 0x3D: the document must be in an
    ASCII-compatible encoding (see ``_ascii_compatible``). Only when a bound
    exceeds a limit are the exact counts needed, and the streaming parse
    keeps them.
    """
    if not _ascii_compatible(data):
        return False
    # replace() finds with memchr: many times faster than count() on a
    # document whose bulk is an attachment, as fast on the others.
    if len(data) - len(data.replace(b"<", b"")) > limits.max_elements:
        return False
    equals = len(data) - len(data.replace(b"=", b""))
    if equals > limits.max_attributes:
        return False
    run = limits.max_attributes_per_element
    if equals <= run:
        return True
    # An element's attributes all lie between its "<" and the next one ("<"
    # cannot occur in an attribute value): if no run of per-element + 1
    # "=" is free of "<", no element has more attributes than the limit.
    at = _positions(data, b"=")
    return all(data.find(b"<", a, b) != -1 for a, b in zip(at, at[run:], strict=False))


def _positions(data: bytes, byte: bytes) -> list[int]:
    found: list[int] = []
    at = data.find(byte)
    while at != -1:
        found.append(at)
        at = data.find(byte, at + 1)
    return found


def _ascii_compatible(data: bytes) -> bool:
    """Whether "<" and "=" can only be the bytes 0x3C and 0x3D.

    The document must start with "<" in an ASCII-compatible encoding (not
    UTF-16/32, not leading whitespace) and declare no encoding outside
    ``_ASCII_SUPERSETS``.
    """
    head = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    if not head.startswith(b"<") or head[1:2] == b"\x00":
        return False
    decl = _XML_DECL.match(head)
    if decl is not None:
        declared = _DECLARED_ENCODING.search(decl.group(1))
        if declared is not None:
            encoding = declared.group(1).decode("ascii", "replace").strip().lower()
            if encoding not in _ASCII_SUPERSETS:
                return False
    return True


def _new_parser(cls: type[etree.XMLParser], **extra: Any) -> tuple[etree.XMLParser, _RefuseAll]:
    # A fresh parser per document: lxml parsers are not safe to share
    # between threads, and each keeps its own error log.
    parser = cls(**{**_PARSER_OPTIONS, **extra})
    resolver = _RefuseAll()
    parser.resolvers.add(resolver)
    return parser, resolver


def _parse_whole(data: bytes, *, huge: bool = False) -> etree._Element:
    parser, resolver = _new_parser(etree.XMLParser, huge_tree=huge)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, parser.error_log) from None
    _refuse_doctype(root)
    _refuse_lookups(resolver)
    return root


def _parse_streaming(data: bytes, limits: LimitSettings) -> etree._Element:
    """Parse chunk by chunk, counting as it goes, stopping at a limit.

    The tree is still built (the caller needs it), but never more than one
    chunk past a limit, so a flood of tiny elements or attributes cannot
    take memory. (One start tag is parsed whole, so a single element with
    too many attributes is refused once libxml2 has read that tag.)
    """
    events = ("start", "end", "start-ns")
    parser, resolver = _new_parser(etree.XMLPullParser, events=events)
    pull: Any = parser  # lxml-stubs lack read_events on the base type and feed_error_log
    counts = _Counts(limits)
    try:
        for offset in range(0, len(data), _CHUNK):
            pull.feed(data[offset : offset + _CHUNK])
            for event, element in pull.read_events():
                if event == "end":
                    counts.depth -= 1
                elif event == "start":
                    if counts.elements == 0:
                        _refuse_doctype(element)  # the prolog is parsed once the root starts
                    counts.start(element)
                else:
                    counts.attributes += 1  # a namespace declaration
        root: etree._Element = pull.close()
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, pull.feed_error_log) from None
    _refuse_lookups(resolver)
    return root


class _Counts:
    """The running counts of a streaming parse, refusing past a limit."""

    def __init__(self, limits: LimitSettings) -> None:
        self.limits = limits
        self.depth = self.elements = self.attributes = 0

    def start(self, element: Any) -> None:
        limits, line = self.limits, element.sourceline
        self.depth += 1
        self.elements += 1
        here = len(element.attrib)
        self.attributes += here
        if self.depth > limits.max_depth:
            raise HostileXml(
                f"elements nested deeper than {limits.max_depth} levels (line {line})",
                limit="max_depth",
            )
        if self.elements > limits.max_elements:
            raise HostileXml(
                f"more than {limits.max_elements} elements (limits.max_elements; "
                f"refused at element {self.elements}, line {line})",
                limit="max_elements",
            )
        if here > limits.max_attributes_per_element:
            raise HostileXml(
                f"an element with {here} attributes, more than "
                f"limits.max_attributes_per_element = {limits.max_attributes_per_element} "
                f"(<{etree.QName(element).localname}> at line {line})",
                limit="max_attributes_per_element",
            )
        if self.attributes > limits.max_attributes:
            raise HostileXml(
                f"more than {limits.max_attributes} attributes and namespace declarations "
                f"(limits.max_attributes; {self.attributes} counted by line {line})",
                limit="max_attributes",
            )


def _check_depth(root: etree._Element, max_depth: int, *, huge: bool = False) -> None:
    """Refuse nesting deeper than max_depth after a whole-tree parse.

    libxml2 already stops at LIBXML2_MAX_DEPTH, so only a lower configured
    limit needs a look. "/*/*..." with max_depth + 1 steps selects the elements
    one level too deep; libxml2 evaluates it level by level, in C.
    """
    if max_depth >= LIBXML2_MAX_DEPTH and not huge:
        return
    if root.xpath("boolean(" + "/*" * (max_depth + 1) + ")"):
        raise HostileXml(f"elements nested deeper than {max_depth} levels", limit="max_depth")


def _refuse_doctype(element: etree._Element) -> None:
    info: Any = element.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        shown = info.doctype if len(info.doctype) <= 120 else info.doctype[:117] + "..."
        raise HostileXml(
            f"DOCTYPE declarations are refused ({shown}): e-invoices carry no DTD, "
            "and DTDs are how entity expansion and external entity attacks work",
            reason="doctype",
        )


def _refuse_lookups(resolver: _RefuseAll) -> None:
    if resolver.asked:
        raise HostileXml(
            f"the document asks to load an external resource ({resolver.asked[0]})",
            reason="external_resource",
        )


_LIBXML_POSITION = re.compile(r", line \d+, column \d+$")


def _syntax_error(exc: Any, log: Any) -> InputError:
    """Turn libxml2's complaint into NotXml, or HostileXml for resource limits."""
    entry = next(iter(log.filter_from_errors()), None) if log is not None else None
    if entry is not None:
        message, line, column, kind = entry.message, entry.line, entry.column, entry.type
    else:  # no log entry: fall back on the exception itself
        message = _LIBXML_POSITION.sub("", exc.msg or str(exc))
        (line, column), kind = exc.position, exc.code
    message = message.strip() or "not well-formed"
    where = f"line {line}, column {column}"
    if kind in _HOSTILE_ERRORS:
        # libxml2's wording ("use XML_PARSE_HUGE option") is advice for
        # programmers, so say what happened first.
        return HostileXml(
            f"refused at {where}: the document exceeds a parser safety limit ({message})",
            line=line,
            column=column,
            reason="resource_limit",
        )
    return NotXml(f"not well-formed XML at {where}: {message}", line=line, column=column)
