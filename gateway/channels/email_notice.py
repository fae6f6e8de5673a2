"""Short notices sent by e-mail through the relay of ``[channels.email]``:
a portal sign-in link, and "a document is waiting for you in your portal".

A notice holds no invoice: only who sent something and a one-time sign-in
link (gateway.core.signin), on its own line. Unlike the e-mail channel,
notices are few, so each one opens its own connection (no pool).
"""

from __future__ import annotations

import secrets
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib
import structlog

from gateway.channels.base import Outcome, Parcel, Recipient
from gateway.config.email import EmailSettings, address_problem
from gateway.core.signin import new_link, sign_in_url

log = structlog.get_logger("gateway.channels.email_notice")


def _one_line(text: str) -> str:
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:120]


class NoticeSender:
    """Sends one plain-text message at a time through the relay."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    async def send(self, to: str, subject: str, text: str, *, now: datetime) -> Outcome:
        """``delivered`` once the relay took it; ``refused`` for an unusable
        address or a 5xx about the recipient; ``retry`` for anything passing."""
        problem = address_problem(to)
        if problem:
            return Outcome.refused(f"the e-mail address is not usable: {problem}")
        s = self.settings
        message = EmailMessage()
        message["From"] = s.sender
        message["To"] = to
        message["Subject"] = _one_line(subject)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(domain=s.sender_domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        context = None
        if s.tls != "none":
            context = ssl.create_default_context(
                cafile=str(s.ca_file) if s.ca_file is not None else None
            )
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                use_tls=s.tls == "implicit",
                start_tls=s.tls == "starttls",
                tls_context=context,
                username=s.username or None,
                password=s.password or None,
                timeout=s.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            reason = f"the relay refused {to}: {first.code} {_one_line(first.message)}"
            return Outcome.refused(reason) if first.code >= 500 else Outcome.retry(reason)
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return Outcome.retry(f"cannot send through the relay {s.host}:{s.port}: {exc}")
        return Outcome.delivered(f"notice sent to {to}", {"to": to})


def sign_in_text(url: str) -> str:
    """The sign-in e-mail, French then English, the link alone on its line."""
    return "\n".join(
        [
            "Bonjour,",
            "",
            "Pour vous connecter au portail de factures, ouvrez ce lien (valable",
            "15 minutes, une seule fois) :",
            "",
            url,
            "",
            "Si vous n'avez rien demandé, ignorez ce message.",
            "",
            "Hello,",
            "",
            "To sign in to the invoice portal, open the link above (it works once,",
            "for 15 minutes). If you did not ask for it, ignore this message.",
            "",
        ]
    )


def document_text(seller: str, number: str, url: str, portal: str) -> str:
    """The notice of a new document: who sent what, and a sign-in link to it."""
    return "\n".join(
        [
            "Bonjour,",
            "",
            f"{seller} vous a envoyé un document ({number}). Il vous attend dans",
            "votre portail ; ouvrez ce lien pour le voir (valable 15 minutes, une fois) :",
            "",
            url,
            "",
            f"Ensuite, connectez-vous ici : {portal}",
            "",
            "Hello,",
            "",
            f"{seller} sent you a document ({number}). It is waiting in your portal:",
            "open the link above to see it (it works once, for 15 minutes);",
            f"afterwards, sign in at {portal}",
            "",
        ]
    )


class PortalNotices:
    """The portal's e-mails: sign-in links, and notices of new documents."""

    def __init__(self, sender: NoticeSender, *, base_url: str, key: bytes) -> None:
        self.sender = sender
        self.base_url = base_url.rstrip("/")
        self.key = key

    def link(self, participant: str, now: datetime, document: str = "") -> str:
        link = new_link(participant, secrets.token_urlsafe(16), now, document)
        return sign_in_url(self.base_url, self.key, link)

    async def sign_in(self, to: str, participant: str, now: datetime) -> Outcome:
        url = self.link(participant, now)
        subject = "Votre lien de connexion / Your sign-in link"
        outcome = await self.sender.send(to, subject, sign_in_text(url), now=now)
        log.info("portal.sign_in_notice", participant=participant, verdict=outcome.verdict.value)
        return outcome

    async def document(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        """The notice of ``parcel`` to the recipient's e-mail address."""
        to = recipient.email.strip()
        if not to:
            return Outcome.refused(
                f"no e-mail address for {recipient.id} to tell it a document is in its portal"
            )
        meta = parcel.meta
        url = self.link(recipient.id, parcel.now, meta.id)
        seller = _one_line(meta.seller_name) or _one_line(meta.sender) or "A supplier"
        number = _one_line(meta.business_id) or meta.id
        text = document_text(seller, number, url, f"{self.base_url}/portal/sign-in")
        subject = f"Nouveau document / New document: {number}"
        outcome = await self.sender.send(to, subject, text, now=parcel.now)
        if outcome.verdict.value == "delivered":
            return Outcome.delivered(
                f"notice sent to {to}: available in its portal",
                {"to": to, "portal": f"/portal/documents/{meta.id}"},
            )
        return outcome
