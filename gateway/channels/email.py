"""The e-mail reception channel: each invoice or credit note sent to the
recipient's address through the configured SMTP relay (``[channels.email]``),
with its PDF rendering and its UBL document attached (``email_message``).

It answers, never raises, for what SMTP can say:

* no address, or one that is not an address: ``refused`` (the next mode of
  the waterfall takes over);
* a 4xx reply, a connection refused, a time-out, a TLS or authentication
  failure: ``retry`` (the relay or our own settings will be fixed; the same
  message, with the same Message-ID, goes again later);
* a 5xx reply to the recipient or to the message (550 no such mailbox, 552
  too large, 554 rejected): ``refused`` with the server's own words.

Connections are kept open and reused (``connections`` of them at most), so
a burst of documents does not pay a TCP and TLS handshake each; a kept
connection that the relay closed meanwhile is replaced once, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from datetime import datetime

import aiosmtplib
import structlog

from gateway.channels.base import Outcome, Parcel, Recipient
from gateway.channels.email_message import Letter, compose, message_id
from gateway.channels.render import read_document, recipient_of, render_pdf
from gateway.config.email import EmailSettings, address_problem
from gateway.config.settings import LimitSettings
from gateway.errors import InputError
from gateway.validation.parse import parse_xml

log = structlog.get_logger("gateway.channels.email")


class EmailChannel:
    """``mode = "email"``: see the module docstring."""

    mode = "email"

    def __init__(
        self,
        settings: EmailSettings,
        *,
        limits: LimitSettings | None = None,
        executor: Executor | None = None,
    ) -> None:
        """``executor`` renders the PDFs (CPU work, about 20 ms each): a
        process pool lets several render at once; None, the loop's threads
        (one at a time, as the renderer is serialised)."""
        self.settings = settings
        self.limits = limits or LimitSettings()
        self.executor = executor
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.connections)
        self._tls = _tls_context(settings)

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        to = recipient.email.strip()
        if not to:
            return Outcome.refused(f"no e-mail address for {recipient.id}")
        problem = address_problem(to)
        if problem:
            return Outcome.refused(f"the e-mail address of {recipient.id} is not usable: {problem}")
        pdf, problem = await asyncio.get_running_loop().run_in_executor(
            self.executor,
            render_attachment,
            parcel.payload,
            self.limits,
            recipient.name,
            recipient.address,
            # Created at reception, not now: every attempt attaches the same PDF.
            parcel.meta.received_at,
        )
        if problem:
            return Outcome.refused(f"the document cannot be rendered as a PDF: {problem}")
        letter = Letter(
            meta=parcel.meta,
            payload=parcel.payload,
            pdf=pdf,
            to=to,
            sender=self.settings.sender,
            sent_at=parcel.now,
            portal_url=self.settings.portal_url,
        )
        data = compose(letter)
        mid = message_id(parcel.meta.id, self.settings.sender_domain)
        outcome = await self._send(data, to)
        if outcome is None:
            outcome = Outcome.delivered(f"sent to {to}", {"message_id": mid, "to": to})
        log.info(
            "email.attempt",
            document_id=parcel.meta.id,
            recipient=recipient.id,
            verdict=outcome.verdict.value,
            reason=outcome.reason,
        )
        return outcome

    async def close(self) -> None:
        """Say QUIT on the kept connections."""
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()

    async def _send(self, data: bytes, to: str) -> Outcome | None:
        """None when the relay took the message, else the outcome to answer."""
        for attempt in (1, 2):
            try:
                async with self._connection() as (client, reused):
                    try:
                        await client.sendmail(
                            self.settings.sender, [to], data, timeout=self.settings.timeout_seconds
                        )
                    except (
                        aiosmtplib.SMTPServerDisconnected,
                        aiosmtplib.SMTPResponseException,
                    ) as exc:
                        # A kept connection the relay dropped, or is closing (421 after
                        # its idle time-out): try once more on a fresh one, at once.
                        closing = getattr(exc, "code", 421) == 421
                        if reused and attempt == 1 and closing:
                            client.close()
                            continue
                        raise
                return None
            except aiosmtplib.SMTPRecipientsRefused as exc:
                first = exc.recipients[0]
                return _by_code(first.code, first.message, f"the relay refused {to}")
            except aiosmtplib.SMTPSenderRefused as exc:
                # Our own From address: a settings problem, not the recipient's.
                return Outcome.retry(
                    f"the relay refused the sender {self.settings.sender}: "
                    f"{exc.code} {_one_line(exc.message)}",
                    {"code": exc.code},
                )
            except aiosmtplib.SMTPAuthenticationError as exc:
                return Outcome.retry(
                    f"the relay refused our login: {exc.code} {_one_line(exc.message)}",
                    {"code": exc.code},
                )
            except aiosmtplib.SMTPDataError as exc:
                return _by_code(exc.code, exc.message, "the relay refused the message")
            except aiosmtplib.SMTPResponseException as exc:
                return Outcome.retry(
                    f"the relay answered {exc.code} {_one_line(exc.message)}", {"code": exc.code}
                )
            except aiosmtplib.SMTPTimeoutError:
                return Outcome.retry(f"the relay {self._where()} did not answer in time")
            except aiosmtplib.SMTPNotSupported as exc:
                return Outcome.retry(f"the relay {self._where()} cannot: {exc}")
            except ssl.SSLCertVerificationError as exc:
                return Outcome.retry(
                    f"the certificate of the relay {self._where()} is not trusted: "
                    f"{exc.verify_message}"
                )
            except ssl.SSLError as exc:
                return Outcome.retry(f"TLS with the relay {self._where()} failed: {exc.reason}")
            except (aiosmtplib.SMTPException, OSError) as exc:
                return Outcome.retry(f"cannot reach the relay {self._where()}: {_cause(exc)}")
        return Outcome.retry(f"the relay {self._where()} keeps closing the connection")

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[tuple[aiosmtplib.SMTP, bool]]:
        """A connected client (a kept one if any), and whether it was kept.
        It goes back to the kept ones only if the exchange ended cleanly or
        with an SMTP reply (the session is still in step)."""
        async with self._slots:
            while self._idle and not self._idle[-1].is_connected:
                self._idle.pop().close()  # closed by the relay while it was kept
            reused = bool(self._idle)
            client = self._idle.pop() if reused else await self._connect()
            keep = False
            try:
                yield client, reused
                keep = True
            except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
                keep = client.is_connected
                raise
            finally:
                if keep and client.is_connected:
                    self._idle.append(client)
                else:
                    client.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.tls == "implicit",
            start_tls=s.tls == "starttls",
            tls_context=self._tls,
            timeout=s.timeout_seconds,
            username=s.username or None,
            password=s.password or None,
        )
        try:
            await client.connect(timeout=s.connect_timeout_seconds)
        except BaseException:
            client.close()
            raise
        return client

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"


def render_attachment(
    payload: bytes, limits: LimitSettings, name: str, address: tuple[str, ...], created: datetime
) -> tuple[bytes, str]:
    """The PDF of ``payload`` and "", or b"" and why it cannot be rendered.
    A plain function of plain values, so a process pool can run it."""
    try:
        doc = read_document(parse_xml(payload, limits))
    except InputError as exc:
        return b"", str(exc)
    who = recipient_of(doc, name=name, address=address)
    return render_pdf(doc, created=created, recipient=who).data, ""


def _tls_context(settings: EmailSettings) -> ssl.SSLContext | None:
    if settings.tls == "none":
        return None
    context = ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _by_code(code: int, message: str, what: str) -> Outcome:
    reason = f"{what}: {code} {_one_line(message)}"
    if 500 <= code < 600:
        return Outcome.refused(reason, {"code": code})
    return Outcome.retry(reason, {"code": code})


def _cause(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return _one_line(text)


def _one_line(text: str) -> str:
    return " ".join(text.split())
