"""The channel of each reception mode, built from the settings.

``network`` writes the participant's inbox folder; ``api`` and ``portal``
keep the document in the store for its inbox; ``email`` sends it through
the relay of ``[channels.email]``; ``paper`` prints it into the day's batch.
A mode with no channel here (``email`` without ``[channels.email]``) is
moved past by the waterfall, with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.channels.base import Channel
from gateway.channels.email import EmailChannel
from gateway.channels.files import NetworkFolderChannel
from gateway.channels.inbox import InboxAccounts, InboxChannel
from gateway.channels.paper import PaperChannel
from gateway.channels.printing import PdfPrintChannel
from gateway.config.settings import Settings


def default_channels(settings: Settings, accounts: InboxAccounts) -> dict[str, Channel]:
    """One channel per reception mode; ``accounts`` (the store) says who has an inbox."""
    printer = PdfPrintChannel(settings.channels.print_dir, limits=settings.limits)
    channels: dict[str, Channel] = {
        "network": NetworkFolderChannel(settings.channels.inbox_dir),
        "api": InboxChannel("api", accounts),
        "portal": InboxChannel("portal", accounts),
        "paper": PaperChannel(printer),
    }
    if settings.channels.email is not None:
        channels["email"] = EmailChannel(settings.channels.email, limits=settings.limits)
    return channels


async def close_channels(channels: Mapping[str, Channel]) -> None:
    """Let the channels that keep connections (SMTP) end them."""
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            await close()
