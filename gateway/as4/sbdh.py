"""The Peppol Business Message Envelope 2.0 (an SBDH around the business
document): build it around a payload and take it apart again.

The envelope is small and the document may be large (tens of MB with an
embedded attachment), so neither direction builds a tree of the document:
``envelope_parts`` gives the bytes to put before and after it, and
``Unwrapper`` reads the header from the first bytes it is fed and keeps the
rest as the document, without a second copy.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.as4.errors import InvalidEnvelope
from gateway.as4.ns import DOCTYPE_SCHEME, PARTICIPANT_SCHEME, SBDH, SERVICE_TYPE, q

MAX_HEADER_BYTES = 256 * 1024
_CHUNK = 1024 * 1024
_WS = b" \t\r\n"
_HEADER_END = re.compile(rb"</(?:[A-Za-z_][\w.\-]*:)?StandardBusinessDocumentHeader\s*>")
_ROOT_END = re.compile(rb"</(?:[A-Za-z_][\w.\-]*:)?StandardBusinessDocument\s*>[ \t\r\n]*\Z")
_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._\-]+)[\"'][^>]*\?>")
_UTF8_NAMES = frozenset({b"utf-8", b"utf8", b"us-ascii", b"ascii"})
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Sbdh:
    """What the envelope says about the document it carries."""

    sender: str  # participant id, e.g. "0088:7300010000001" (scheme iso6523-actorid-upis)
    receiver: str
    document_type: str  # document type id value (scheme busdox-docid-qns)
    process: str  # process id value (scheme cenbii-procid-ubl)
    country_c1: str  # ISO 3166 alpha-2 country of the sender (corner 1)
    instance_id: str  # UUID: the end-to-end key of this envelope
    created_at: datetime
    document_type_scheme: str = DOCTYPE_SCHEME
    process_scheme: str = SERVICE_TYPE
    # More scopes, e.g. (("MLS_TO", "0242:..."), ("MLS_TYPE", "FAILURE_ONLY")) from 2026-07.
    extra_scopes: tuple[tuple[str, str], ...] = ()


def document_type_parts(document_type: str) -> tuple[str, str, str]:
    """(root namespace, root local name, syntax version) of a busdox-docid-qns
    value ``<ns>::<local>##<customization>::<version>`` (Envelope 2.0 §2.3)."""
    syntax, sep, rest = document_type.partition("##")
    ns, sep2, local = syntax.rpartition("::")
    _, sep3, version = rest.rpartition("::")
    if not (sep and sep2 and sep3 and ns and local and version):
        raise ValueError(f"not a busdox-docid-qns document type id: {document_type!r}")
    return ns, local, version


# --- building --------------------------------------------------------------


def envelope_parts(h: Sbdh) -> tuple[bytes, bytes]:
    """(head, tail) of the envelope: the document goes between them, after
    ``strip_prolog``. A prefix is used for the SBDH namespace so that the
    document's own (default) namespace is never changed by its new parent."""
    ns, local, version = document_type_parts(h.document_type)
    root = etree.Element(q(SBDH, "StandardBusinessDocument"), nsmap={"sh": SBDH})
    header = _sub(root, "StandardBusinessDocumentHeader")
    _sub(header, "HeaderVersion", "1.0")
    for role, pid in (("Sender", h.sender), ("Receiver", h.receiver)):
        ident = _sub(_sub(header, role), "Identifier", pid)
        ident.set("Authority", PARTICIPANT_SCHEME)
    ident = _sub(header, "DocumentIdentification")
    _sub(ident, "Standard", ns)
    _sub(ident, "TypeVersion", version)
    _sub(ident, "InstanceIdentifier", h.instance_id)
    _sub(ident, "Type", local)
    _sub(ident, "CreationDateAndTime", _xs_datetime(h.created_at))
    scope = _sub(header, "BusinessScope")
    _scope(scope, "DOCUMENTID", h.document_type, h.document_type_scheme)
    _scope(scope, "PROCESSID", h.process, h.process_scheme)
    _scope(scope, "COUNTRY_C1", h.country_c1)
    for kind, value in h.extra_scopes:
        _scope(scope, kind, value)
    text = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    close = b"</sh:StandardBusinessDocument>"
    if not text.endswith(close):
        raise AssertionError("unexpected SBDH serialisation")
    return text[: -len(close)] + b"\n", b"\n" + close


def strip_prolog(payload: bytes | memoryview) -> memoryview:
    """The document without BOM and XML declaration, which cannot appear
    inside the envelope. Refuses documents declared in another encoding than
    UTF-8 (Peppol documents are UTF-8; recoding would be a guess)."""
    view = memoryview(payload)
    if bytes(view[:3]) == _BOM:
        view = view[3:]
    if bytes(view[:5]) == b"<?xml":
        end = bytes(view[:512]).find(b"?>")
        if end < 0:
            raise ValueError("the document's XML declaration is not closed")
        match = _DECLARATION.match(bytes(view[: end + 2]))
        if match and match.group(1).lower() not in _UTF8_NAMES:
            raise ValueError(f"the document is declared as {match.group(1).decode()}, not UTF-8")
        view = view[end + 2 :]
    return view


def wrap(h: Sbdh, payload: bytes | memoryview) -> bytes:
    head, tail = envelope_parts(h)
    return b"".join((head, strip_prolog(payload), tail))


def _sub(parent: etree._Element, local: str, value: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, q(SBDH, local))
    if value is not None:
        el.text = value
    return el


def _scope(parent: etree._Element, kind: str, value: str, identifier: str = "") -> None:
    scope = _sub(parent, "Scope")
    _sub(scope, "Type", kind)
    _sub(scope, "InstanceIdentifier", value)
    if identifier:
        _sub(scope, "Identifier", identifier)


def _xs_datetime(t: datetime) -> str:
    if t.tzinfo is None:
        raise ValueError("times on the wire must be timezone-aware")
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- reading ---------------------------------------------------------------


class Unwrapper:
    """Takes an envelope in chunks and keeps the document inside it.

    The header is parsed as soon as its closing tag has arrived; what
    follows is written once into a buffer that becomes the document's bytes
    (``BytesIO.getvalue`` hands over its buffer instead of copying it).
    """

    def __init__(self, *, max_bytes: int) -> None:
        self._max = max_bytes
        self._head = bytearray()
        self._header: Sbdh | None = None
        self._extra_ns: dict[str, str] = {}
        self._out = io.BytesIO()
        self._size = 0

    def write(self, chunk: bytes | memoryview) -> None:
        self._size += len(chunk)
        if self._size > self._max:
            raise InvalidEnvelope(f"the envelope is larger than the limit of {self._max} bytes")
        if self._header is not None:
            self._keep(chunk)
            return
        self._head += chunk
        match = _HEADER_END.search(self._head)
        if match is None:
            if len(self._head) > MAX_HEADER_BYTES:
                raise InvalidEnvelope("no complete SBDH header in the first 256 KiB")
            return
        self._header, self._extra_ns = _parse_header(bytes(self._head[: match.end()]))
        with memoryview(self._head) as view:
            self._keep(view[match.end() :])
        self._head = bytearray()

    def _keep(self, chunk: bytes | memoryview) -> None:
        if self._out.tell() == 0:
            # Whitespace between header and document is dropped here, while
            # it is cheap, rather than by slicing the whole document later.
            chunk = bytes(chunk).lstrip(_WS)
        self._out.write(chunk)

    def finish(self) -> tuple[Sbdh, bytes]:
        """The header and the document; InvalidEnvelope when either is missing."""
        if self._header is None:
            raise InvalidEnvelope("the payload has no SBDH header (StandardBusinessDocumentHeader)")
        end = self._document_end()
        self._out.truncate(end)
        data = self._out.getvalue()
        self._out = io.BytesIO()
        if not data.startswith(b"<"):
            raise InvalidEnvelope("the envelope carries no business document")
        if self._extra_ns:
            data = _inject_namespaces(data, self._extra_ns)
        return self._header, data

    def _document_end(self) -> int:
        size = self._out.tell()
        with self._out.getbuffer() as view:
            tail = bytes(view[max(0, size - 4096) : size])
        at = tail.rfind(b"</")
        if at < 0 or not _ROOT_END.match(tail, at):
            raise InvalidEnvelope("the envelope does not end with </StandardBusinessDocument>")
        return size - len(tail) + len(tail[:at].rstrip(_WS))


def unwrap(envelope: bytes | memoryview, *, max_bytes: int | None = None) -> tuple[Sbdh, bytes]:
    """The header and document of a complete envelope."""
    reader = Unwrapper(max_bytes=max_bytes if max_bytes is not None else len(envelope))
    with memoryview(envelope) as view:
        for at in range(0, len(view), _CHUNK):
            reader.write(view[at : at + _CHUNK])
    return reader.finish()


def _parse_header(head: bytes) -> tuple[Sbdh, dict[str, str]]:
    if b"<!DOCTYPE" in head:
        raise InvalidEnvelope("the envelope has a DOCTYPE, which is not allowed")
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False
    )
    root: etree._Element | None = None
    header: etree._Element | None = None
    try:
        parser.feed(head)
        for event, el in parser.read_events():
            if not isinstance(el, etree._Element):
                continue
            if event == "start" and root is None:
                root = el
            elif event == "end" and el.tag == q(SBDH, "StandardBusinessDocumentHeader"):
                header = el
    except etree.XMLSyntaxError as exc:
        raise InvalidEnvelope(f"the SBDH is not well-formed XML: {exc.msg}") from None
    if root is None or root.tag != q(SBDH, "StandardBusinessDocument") or header is None:
        raise InvalidEnvelope("the payload is not a StandardBusinessDocument")
    if header.getparent() is not root:
        raise InvalidEnvelope("StandardBusinessDocumentHeader is not a child of the root")
    extra = {p: uri for p, uri in root.nsmap.items() if p is not None and uri != SBDH}
    if root.nsmap.get(None) not in (None, SBDH):
        extra[""] = str(root.nsmap[None])
    return _header_fields(header), extra


def _header_fields(header: etree._Element) -> Sbdh:
    def value(path: str, what: str) -> str:
        found = header.findtext(path, namespaces={"sh": SBDH})
        if not found or not found.strip():
            raise InvalidEnvelope(f"the SBDH has no {what}")
        return found.strip()

    scopes: dict[str, tuple[str, str]] = {}
    extra: list[tuple[str, str]] = []
    for scope in header.iterfind("sh:BusinessScope/sh:Scope", namespaces={"sh": SBDH}):
        kind = (scope.findtext(q(SBDH, "Type")) or "").strip()
        instance = (scope.findtext(q(SBDH, "InstanceIdentifier")) or "").strip()
        ident = (scope.findtext(q(SBDH, "Identifier")) or "").strip()
        if kind in ("DOCUMENTID", "PROCESSID", "COUNTRY_C1"):
            if kind in scopes:
                raise InvalidEnvelope(f"the SBDH has two {kind} scopes")
            scopes[kind] = (instance, ident)
        elif kind:
            extra.append((kind, instance))
    for kind in ("DOCUMENTID", "PROCESSID", "COUNTRY_C1"):
        if not scopes.get(kind, ("", ""))[0]:
            raise InvalidEnvelope(f"the SBDH has no {kind} scope (Envelope 2.0 §2.3-2.5)")
    created = value("sh:DocumentIdentification/sh:CreationDateAndTime", "CreationDateAndTime")
    return Sbdh(
        sender=_participant(value("sh:Sender/sh:Identifier", "sender")),
        receiver=_participant(value("sh:Receiver/sh:Identifier", "receiver")),
        document_type=scopes["DOCUMENTID"][0],
        process=scopes["PROCESSID"][0],
        country_c1=scopes["COUNTRY_C1"][0],
        instance_id=value("sh:DocumentIdentification/sh:InstanceIdentifier", "InstanceIdentifier"),
        created_at=_parse_time(created),
        document_type_scheme=scopes["DOCUMENTID"][1] or DOCTYPE_SCHEME,
        process_scheme=scopes["PROCESSID"][1] or SERVICE_TYPE,
        extra_scopes=tuple(extra),
    )


def _participant(value: str) -> str:
    # Some senders repeat the scheme in the value as well as in @Authority.
    prefix = PARTICIPANT_SCHEME + "::"
    return value[len(prefix) :] if value.lower().startswith(prefix) else value


def _parse_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEnvelope(f"CreationDateAndTime is not a date and time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _inject_namespaces(data: bytes, extra: dict[str, str]) -> bytes:
    """Copy namespace declarations the envelope's root made for the document
    onto the document's root, so that it stands on its own."""
    match = re.search(rb"<[A-Za-z_][\w.\-:]*", data)  # the root, after any comment
    if match is None:
        return data
    end = data.find(b">", match.end())
    start_tag = data[: end + 1]
    decls = []
    for prefix, uri in extra.items():
        attr = f"xmlns:{prefix}" if prefix else "xmlns"
        if re.search(rb"\s" + re.escape(attr.encode()) + rb"\s*=", start_tag) is None:
            escaped = uri.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            decls.append(f' {attr}="{escaped}"'.encode())
    if not decls:
        return data
    return b"".join((data[: match.end()], *decls, data[match.end() :]))
