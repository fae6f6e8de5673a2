"""The e-mail a recipient receives for one invoice or credit note: a short
plain-text letter saying who sends what, for how much and by when, with the
PDF rendering and the UBL document (its exact bytes) attached.

Pure: values in, bytes out. Everything taken from the document (names,
numbers, amounts) is untrusted; header values are folded to one line and
file names reduced to safe characters, so a CR or LF in an invoice number
can never start a header of its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
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


def compose(letter: Letter) -> EmailMessage:
    """The whole message, ready for SMTP."""
    meta = letter.meta
    msg = EmailMessage(policy=SMTP)
    msg["From"] = letter.sender
    msg["To"] = letter.to
    msg["Subject"] = subject(meta)
    msg["Date"] = format_datetime(letter.sent_at)
    msg["Message-ID"] = message_id(meta.id, letter.sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    msg.set_content(body(meta, letter.portal_url))
    name = file_stem(meta)
    msg.add_attachment(letter.pdf, maintype="application", subtype="pdf", filename=f"{name}.pdf")
    msg.add_attachment(
        letter.payload, maintype="application", subtype="xml", filename=f"{name}.xml"
    )
    return msg


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
