"""The channel of each reception mode, built from the settings.

``network`` writes the participant's inbox folder, ``api`` and ``portal``
keep the document in the store for its inbox, ``paper`` prints it into the
day's batch. A mode whose channel is not configured here (``email`` without
``[channels.email]``) has none: the waterfall moves past it with the reason.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gateway.channels.base import Channel
from gateway.channels.files import NetworkFolderChannel
from gateway.channels.inbox import InboxAccounts, InboxChannel
from gateway.channels.paper import PaperChannel
from gateway.channels.printing import PdfPrintChannel
from gateway.config.settings import Settings


class _EveryParticipant:
    """Until recipient accounts exist in the store: everyone has an inbox."""

    async def has_recipient_account(self, participant: str) -> bool:
        return True


@runtime_checkable
class _HasAccounts(Protocol):
    async def has_recipient_account(self, participant: str) -> bool: ...


def default_channels(settings: Settings, store: object) -> dict[str, Channel]:
    accounts: InboxAccounts = store if isinstance(store, _HasAccounts) else _EveryParticipant()
    return {
        "network": NetworkFolderChannel(settings.channels.inbox_dir),
        "api": InboxChannel("api", accounts),
        "portal": InboxChannel("portal", accounts),
        "paper": PaperChannel(PdfPrintChannel(settings.channels.print_dir, limits=settings.limits)),
    }
