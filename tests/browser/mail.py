"""Reading what the gateway e-mailed to the real SMTP server of a browser test
(tests.builders.smtp): the sign-in link, as a person would copy it from the
message's text."""

from __future__ import annotations

import time
from email.message import EmailMessage

from tests.builders.smtp import Mailbox

PATIENCE_SECONDS = 30.0


def text_of(message: EmailMessage) -> str:
    """The plain-text body a mail program shows (the first text/plain part)."""
    body = message.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage), f"no text/plain part in {message['Subject']!r}"
    return str(body.get_content())


def links_in(text: str, prefix: str) -> list[str]:
    """Every line of ``text`` that is a URL starting with ``prefix`` and
    nothing else (the contract: the link stands on its own line)."""
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(prefix) and " " not in line.strip()
    ]


def messages_to(box: Mailbox, address: str) -> list[EmailMessage]:
    with box.lock:
        received = list(box.received)
    return [r.message() for r in received if address in r.recipients]


def sign_in_link(
    box: Mailbox, address: str, base_url: str, *, seen: int = 0, patience: float = PATIENCE_SECONDS
) -> str:
    """The sign-in link in the newest message to ``address`` after the first
    ``seen`` ones, once it has arrived: a line of its text starting with
    ``base_url``/portal/sign-in/."""
    prefix = base_url.rstrip("/") + "/portal/sign-in/"
    deadline = time.monotonic() + patience
    while True:
        for message in reversed(messages_to(box, address)[seen:]):
            found = links_in(text_of(message), prefix)
            if found:
                assert len(set(found)) == 1, f"several sign-in links in one message: {found}"
                return found[0]
        if time.monotonic() > deadline:
            subjects = [m["Subject"] for m in messages_to(box, address)]
            raise AssertionError(
                f"no message to {address} with a line starting {prefix} after "
                f"{patience:.0f}s; messages to it: {subjects}"
            )
        time.sleep(0.05)
