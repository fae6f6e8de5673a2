"""The e-mail a recipient receives for one invoice or credit note: a short
plain-text letter saying who sends what, for how much and by when, with the
PDF rendering and the UBL document (its exact bytes) attached.

Pure: values in, bytes out. Everything taken from the document (names,
numbers, amounts) is untrusted; header values are folded to one line and
file names reduced to safe characters, so a CR or LF in an invoice number
can never start a header of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime

from gateway.model import DocumentKind, DocumentMeta

_ID_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SUBJECT_PART = 120  # characters of one untrusted value in the subject


@dataclass(frozen=True, slots=True)
class Letter:
    """What the channel needs to build the message."""

    meta: DocumentMeta
    payload: bytes  # the UBL document, as received
    pdf: bytes  # its rendering
    to: str
    sender: str  # our From address
    sent_at: datetime
    portal_url: str = ""


def message_id(document_id: str, sender_domain: str) -> str:
    """The Message-ID of a document's e-mail: the same on every attempt, so
    the recipient (and its mail server) can tell a retry from a new document."""
    local = document_id if _ID_SAFE.fullmatch(document_id) else _digest(document_id)
    return f"<{local}.invoice@{sender_domain}>"


def compose(letter: Letter) -> bytes:
    """The whole message, CRLF line ends, ready for SMTP.

    Written directly rather than through ``email.message``: it has one fixed
    shape, and the standard library's header machinery costs several
    milliseconds a message, more than sending it. Every value is either
    checked (the addresses), reduced to one line (what comes from the
    document) or encoded (base64, quoted-printable, RFC 2047)."""
    meta = letter.meta
    boundary = f"=_gw_{_digest(meta.id)[:24]}"  # "=_" never occurs in base64 or QP
    name = file_stem(meta)
    head = [
        f"From: {letter.sender}",
        f"To: {letter.to}",
        _encoded_header("Subject", subject(meta)),
        f"Date: {format_datetime(letter.sent_at)}",
        f"Message-ID: {message_id(meta.id, letter.sender.rpartition('@')[2])}",
        "Auto-Submitted: auto-generated",  # RFC 3834: no vacation replies, please
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        "This is a message in MIME format: an invoice and its attachments.",
    ]
    text = binascii.b2a_qp(body(meta, letter.portal_url).encode("utf-8"), istext=True)
    parts = [
        "\r\n".join(head).encode("ascii"),
        _part(boundary, 'text/plain; charset="utf-8"', "", "quoted-printable", text),
        _part(boundary, "application/pdf", f"{name}.pdf", "base64", _base64(letter.pdf)),
        _part(boundary, "application/xml", f"{name}.xml", "base64", _base64(letter.payload)),
        f"\r\n--{boundary}--\r\n".encode("ascii"),
    ]
    return b"".join(parts).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _part(boundary: str, content_type: str, filename: str, encoding: str, data: bytes) -> bytes:
    lines = ["", f"--{boundary}", f"Content-Type: {content_type}"]
    if filename:  # file_stem's characters need no quoting beyond the quotes
        lines.append(f'Content-Disposition: attachment; filename="{filename}"')
    lines += [f"Content-Transfer-Encoding: {encoding}", "", ""]
    return "\r\n".join(lines).encode("ascii") + data.rstrip(b"\r\n")


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data)  # 76-character lines


def _encoded_header(name: str, value: str) -> str:
    """``name: value``, RFC 2047-encoded when not ASCII, folded to lines of
    at most 78 characters."""
    charset = "us-ascii" if value.isascii() else "utf-8"
    return f"{name}: " + Header(value, charset, header_name=name).encode(linesep="\r\n")


def subject(meta: DocumentMeta) -> str:
    number = _one_line(meta.business_id) or meta.id
    return f"{_kind(meta)} {number} from {_seller(meta)}"


def body(meta: DocumentMeta, portal_url: str = "") -> str:
    kind = _kind(meta)
    lines = [
        "Hello,",
        "",
        f"{_seller(meta)} has sent you {_article(kind)} {kind.lower()}.",
        "",
        f"  {kind} number: {_one_line(meta.business_id) or '(none given)'}",
    ]
    if meta.payable_amount:
        amount = _one_line(meta.payable_amount)
        lines.append(f"  Amount due:  {amount} {_one_line(meta.currency)}".rstrip())
    if meta.issue_date:
        lines.append(f"  Issue date:  {_one_line(meta.issue_date)}")
    if meta.due_date:
        lines.append(f"  Due date:    {_one_line(meta.due_date)}")
    lines += [
        "",
        f"The {kind.lower()} is attached twice: as a PDF to read and print, and as",
        "a UBL XML file for your accounting software.",
    ]
    if portal_url:
        lines += ["", "You can also see it, and all your documents, in your portal:", portal_url]
    lines += [
        "",
        "This message was sent automatically by the e-invoicing gateway; please do",
        "not reply to it. For questions about the document, contact the sender.",
        "",
    ]
    return "\n".join(lines)


def file_stem(meta: DocumentMeta) -> str:
    """The attachments' name: the invoice number, else the document id, in
    characters every mail client and file system takes."""
    for raw in (meta.business_id, meta.id):
        stem = _FILE_UNSAFE.sub("_", raw).strip("._")[:100]
        if stem:
            return stem
    return "document"


def _kind(meta: DocumentMeta) -> str:
    return "Credit note" if meta.kind is DocumentKind.CREDIT_NOTE else "Invoice"


def _article(kind: str) -> str:
    return "an" if kind[0].lower() in "aeiou" else "a"


def _seller(meta: DocumentMeta) -> str:
    return _one_line(meta.seller_name) or _one_line(meta.sender) or "a supplier"


def _one_line(value: str) -> str:
    """Untrusted text as one short line: line breaks and control characters
    become spaces, runs of spaces one."""
    cleaned = "".join(c if c.isprintable() else " " for c in value)
    text = " ".join(cleaned.split())
    return text if len(text) <= _MAX_SUBJECT_PART else text[: _MAX_SUBJECT_PART - 1] + "…"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
