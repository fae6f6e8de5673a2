"""A real SMTP server on loopback for the e-mail channel's tests (aiosmtpd,
in its own thread): it keeps what it receives, answers RCPT or DATA with the
reply a test scripts, and can offer STARTTLS and require a login."""

from __future__ import annotations

import email
import hashlib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateway.channels.base import Parcel
from gateway.model import Direction, DocumentKind, DocumentMeta
from gateway.pki import certificates as certs
from gateway.pki.certificates import KeyPair


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """What the server received, and how it answers next."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str = ""  # "" accepts; else e.g. "550 5.1.1 No such mailbox"
    data_reply: str = ""
    mail_replies: list[str] = field(default_factory=list)  # answered once each, in order
    logins: list[str] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd calls these hooks by name.
    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 OK queued"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        if session.host_name is None:  # first EHLO on this connection
            with self.lock:
                self.connections += 1
        session.host_name = hostname
        return responses


@contextmanager
def smtp_server(
    port: int,
    *,
    tls: KeyPair | None = None,
    workdir: Path | None = None,
    login: tuple[str, str] | None = None,
    implicit: bool = False,
) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1:``port``; with ``tls`` (a key pair) it
    requires STARTTLS (``implicit``: TLS from the first byte, as on port
    465), with ``login`` (user, password) AUTH as well."""
    box = Mailbox()
    kwargs: dict[str, Any] = {}
    if tls is not None:
        assert workdir is not None, "a TLS server needs a folder for its key"
        key_file, cert_file = workdir / "smtp.key", workdir / "smtp.pem"
        key_file.write_bytes(certs.key_pem(tls[0]))
        cert_file.write_bytes(certs.certificate_pem(tls[1]))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        if implicit:
            kwargs.update(ssl_context=context)
        else:
            kwargs.update(tls_context=context, require_starttls=True)
    if login is not None:

        def check(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == login
            )
            if ok:
                box.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535

        kwargs.update(authenticator=check, auth_required=True)
    controller = Controller(box, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def parcel(
    payload: bytes,
    *,
    doc_id: str = "doc-1",
    now: datetime = datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    **meta: Any,
) -> Parcel:
    """``payload`` as delivery hands it to a channel, with the inbox metadata
    of the sample documents (``meta`` overrides any field)."""
    values: dict[str, Any] = {
        "id": doc_id,
        "direction": Direction.OUTBOUND,
        "kind": DocumentKind.INVOICE,
        "sender": "0088:5730000001008",
        "recipient": "0088:5730000002005",
        "document_type": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1",
        "process": "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        "business_id": "INV-1",
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "received_at": now - timedelta(minutes=5),
        "seller_name": "Abaque Conseil",
        "issue_date": "2026-10-30",
        "due_date": "2026-11-29",
        "currency": "EUR",
        "payable_amount": "1250.00",
    }
    values.update(meta)
    return Parcel(meta=DocumentMeta(**values), payload=payload, now=now)
