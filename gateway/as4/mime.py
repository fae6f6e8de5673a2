"""SOAP with Attachments: multipart/related (RFC 2387) built strictly and
parsed tolerantly.

Parsing accepts what real senders produce: the attachment in binary or
base64 (or quoted-printable), MIME headers repeated before the first
boundary, parameters in any order, quoted or not, with any case, folded
header lines and bare LF line ends. A binary part is a view into the body,
never a copy, so a 50 MB attachment costs nothing more here. The email
package is not used: it decodes the whole body to text and rewrites line
ends, which is slow and wrong for binary parts.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from gateway.as4.errors import MimeInconsistency

SOAP_TYPE = "application/soap+xml"
_TOKEN = re.compile(r'\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)\s*(?:;|$)')
_HEADER = re.compile(rb"([!-9;-~]+)[ \t]*:[ \t]*(.*)")
MAX_PARTS = 32


@dataclass(frozen=True, slots=True)
class Part:
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    media_type: str  # lower-cased, without parameters, e.g. "application/octet-stream"
    params: dict[str, str]
    content_id: str  # without angle brackets; "" when the part has none
    content: bytes | memoryview  # transfer encoding removed


@dataclass(frozen=True, slots=True)
class Multipart:
    root: Part
    attachments: dict[str, Part] = field(default_factory=dict)  # by Content-ID

    def attachment(self, href: str) -> Part | None:
        """The part a ``cid:`` URL names (RFC 2392: %-encoded, no brackets)."""
        cid = unquote(href[4:]) if href.lower().startswith("cid:") else href
        return self.attachments.get(cid.strip("<>"))


# --- building --------------------------------------------------------------


def build(
    root: bytes,
    attachments: Sequence[tuple[str, str, bytes | memoryview]],
    *,
    boundary: str,
    root_id: str,
) -> tuple[str, list[bytes | memoryview]]:
    """The Content-Type header and the body, as chunks to send in order.

    ``attachments`` are (content id, media type, content), sent binary: the
    body's size is then known and nothing is copied or inflated by base64.
    """
    delimiter = b"--" + boundary.encode("ascii")
    chunks: list[bytes | memoryview] = [
        delimiter
        + b"\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n"
        + b"Content-Transfer-Encoding: binary\r\nContent-ID: <"
        + root_id.encode("ascii")
        + b">\r\n\r\n",
        root,
    ]
    for cid, media_type, content in attachments:
        chunks.append(
            b"\r\n"
            + delimiter
            + f"\r\nContent-Type: {media_type}\r\nContent-Transfer-Encoding: binary\r\n".encode()
            + b"Content-ID: <"
            + cid.encode("ascii")
            + b">\r\n\r\n"
        )
        chunks.append(content)
    chunks.append(b"\r\n" + delimiter + b"--\r\n")
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="{SOAP_TYPE}"; start="<{root_id}>"'
    )
    return content_type, chunks


# --- parsing ---------------------------------------------------------------


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Media type (lower-cased) and parameters (names lower-cased, values unquoted)."""
    media, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _TOKEN.finditer(rest):
        name, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[name] = raw
    return media.strip().lower(), params


def parse(content_type: str | None, body: bytes | memoryview) -> Multipart:
    """Split an AS4 request or response body; a plain SOAP body is a message
    without attachments. Raises MimeInconsistency."""
    view = memoryview(body)
    media, params = parse_content_type(content_type or "")
    if not media.startswith("multipart/"):
        repeated = _content_type_in_preamble(view)
        if repeated is None:
            if media in (SOAP_TYPE, "text/xml", "application/xml") or not media:
                return Multipart(root=Part({}, SOAP_TYPE, {}, "", view))
            raise MimeInconsistency(f"Content-Type {media!r} is neither multipart nor SOAP")
        media, params = parse_content_type(repeated)
    boundary = params.get("boundary", "")
    if not boundary:
        repeated = _content_type_in_preamble(view)
        boundary = parse_content_type(repeated)[1].get("boundary", "") if repeated else ""
    if not boundary or len(boundary) > 200:
        raise MimeInconsistency("multipart Content-Type without a usable boundary")
    parts = [_part(raw) for raw in _split(view, boundary.encode("latin-1"))]
    return _assemble(parts, params.get("start", ""))


def _split(view: memoryview, boundary: bytes) -> list[memoryview]:
    data = view.obj if isinstance(view.obj, bytes) and len(view.obj) == len(view) else bytes(view)
    delimiter = b"--" + boundary
    # The first delimiter may open the body or follow a preamble (which some
    # senders fill with a copy of the HTTP headers).
    at = 0 if data.startswith(delimiter) else data.find(b"\n" + delimiter)
    if at < 0:
        raise MimeInconsistency("the body has no part delimited by the declared boundary")
    at = data.index(delimiter, at)
    parts: list[memoryview] = []
    while True:
        line_end = data.find(b"\n", at)
        after = data[at + len(delimiter) : at + len(delimiter) + 2]
        if after == b"--":
            return parts
        if line_end < 0:
            raise MimeInconsistency("the multipart body ends without its closing delimiter")
        nxt = data.find(b"\n" + delimiter, line_end)
        if nxt < 0:
            raise MimeInconsistency("the multipart body ends without its closing delimiter")
        end = nxt - 1 if nxt > 0 and data[nxt - 1] == 13 else nxt  # CRLF belongs to the delimiter
        parts.append(view[line_end + 1 : end])
        if len(parts) > MAX_PARTS:
            raise MimeInconsistency(f"more than {MAX_PARTS} MIME parts")
        at = nxt + 1


def _part(raw: memoryview) -> Part:
    head_end, body_start = _header_end(raw)
    headers = _headers(bytes(raw[:head_end]))
    media, params = parse_content_type(headers.get("content-type", "text/plain"))
    content = _decode(raw[body_start:], headers.get("content-transfer-encoding", "binary"))
    cid = headers.get("content-id", "").strip().strip("<>").strip()
    return Part(headers, media, params, cid, content)


def _header_end(raw: memoryview) -> tuple[int, int]:
    head = bytes(raw[:16384])
    if head.startswith((b"\r\n", b"\n")):  # a part without headers
        return 0, 2 if head.startswith(b"\r\n") else 1
    found = [(at, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (at := head.find(sep)) >= 0]
    if not found:
        raise MimeInconsistency("a MIME part has no end of headers")
    at, size = min(found)
    return at, at + size


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    name = ""
    for line in block.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and name:  # folded continuation (RFC 5322 §2.2.3)
            headers[name] += " " + line.strip().decode("latin-1")
            continue
        match = _HEADER.match(line)
        if match is None:
            if line.strip():
                raise MimeInconsistency("a MIME part has a malformed header line")
            continue
        name = match.group(1).decode("ascii").lower()
        headers[name] = match.group(2).strip().decode("latin-1")
    return headers


def _decode(content: memoryview, encoding: str) -> bytes | memoryview:
    kind = encoding.strip().lower()
    if kind in ("binary", "8bit", "7bit", ""):
        return content
    try:
        if kind == "base64":
            return binascii.a2b_base64(content)
        if kind == "quoted-printable":
            return binascii.a2b_qp(bytes(content))
    except binascii.Error:
        raise MimeInconsistency(f"a MIME part is not valid {kind}") from None
    raise MimeInconsistency(f"unknown Content-Transfer-Encoding {encoding!r}")


def _assemble(parts: list[Part], start: str) -> Multipart:
    if not parts:
        raise MimeInconsistency("the multipart body has no parts")
    start_id = start.strip().strip("<>")
    root = next((p for p in parts if start_id and p.content_id == start_id), None)
    if start_id and root is None:
        raise MimeInconsistency(f"no MIME part has the start Content-ID <{start_id}>")
    root = root or parts[0]  # RFC 2387 §3.2: without start, the first part is the root
    attachments: dict[str, Part] = {}
    for p in parts:
        if p is root:
            continue
        if not p.content_id:
            raise MimeInconsistency("an attachment has no Content-ID")
        if p.content_id in attachments:
            raise MimeInconsistency(f"two MIME parts have Content-ID <{p.content_id}>")
        attachments[p.content_id] = p
    return Multipart(root=root, attachments=attachments)


def _content_type_in_preamble(view: memoryview) -> str | None:
    """A Content-Type header repeated at the start of the body, if any."""
    head = bytes(view[:4096])
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line.startswith(b"--"):  # the first delimiter ends the preamble
            return None
        match = _HEADER.match(line)
        if match and match.group(1).lower() == b"content-type":
            return match.group(2).strip().decode("latin-1")
    return None
