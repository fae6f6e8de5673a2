"""The channel of each reception mode, built from the settings.

``network`` writes the participant's inbox folder; ``api`` and ``portal``
keep the document in the store for its inbox (``portal`` e-mails a notice
with a sign-in link when there is a relay); ``email`` sends it through
the relay of ``[channels.email]``; ``paper`` prints it into the day's batch.
A mode with no channel here (``email`` without ``[channels.email]``) is
moved past by the waterfall, with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

from gateway.channels.base import Channel
from gateway.channels.email import EmailChannel
from gateway.channels.email_notice import NoticeSender, PortalNotices
from gateway.channels.files import NetworkFolderChannel
from gateway.channels.inbox import InboxAccounts, InboxChannel
from gateway.channels.paper import PaperChannel
from gateway.channels.printing import PdfPrintChannel
from gateway.config.settings import Settings
from gateway.service.webhook_secrets import load_or_create_key

PORTAL_KEY_FILE = "portal.key"  # beside gateway.toml: signs the portal's sign-in links


def portal_key(settings: Settings) -> bytes:
    """The key that signs portal sign-in links (made, mode 0600, on first use).
    Every gateway process sharing a store needs the same file."""
    return load_or_create_key(settings.path.parent / PORTAL_KEY_FILE)


def portal_notices(settings: Settings) -> PortalNotices | None:
    """The portal's e-mails, when the gateway has a relay ([channels.email])."""
    email = settings.channels.email
    if email is None:
        return None
    return PortalNotices(
        NoticeSender(email), base_url=settings.network.base_url, key=portal_key(settings)
    )


def default_channels(settings: Settings, accounts: InboxAccounts) -> dict[str, Channel]:
    """One channel per reception mode; ``accounts`` (the store) says who has an inbox."""
    printer = PdfPrintChannel(settings.channels.print_dir, limits=settings.limits)
    channels: dict[str, Channel] = {
        "network": NetworkFolderChannel(settings.channels.inbox_dir),
        "api": InboxChannel("api", accounts),
        "portal": InboxChannel("portal", accounts, portal_notices(settings)),
        "paper": PaperChannel(printer),
    }
    email = settings.channels.email
    if email is not None:
        # Rendering the PDF is the channel's CPU work (about 20 ms a document):
        # spare cores render in parallel when render_processes is set.
        pool = ProcessPoolExecutor(email.render_processes) if email.render_processes else None
        channels["email"] = EmailChannel(email, limits=settings.limits, executor=pool)
    return channels


async def close_channels(channels: Mapping[str, Channel]) -> None:
    """Let the channels that keep connections (SMTP) end them."""
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            await close()
        pool = getattr(channel, "executor", None)
        if isinstance(pool, ProcessPoolExecutor):
            pool.shutdown(wait=False, cancel_futures=True)
