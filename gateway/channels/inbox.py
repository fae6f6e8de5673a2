"""The ``api`` and ``portal`` reception channels: the document stays in the
store, where the recipient reads it through the inbox API (and the portal,
which is built on it).

Nothing is copied anywhere, so "delivered" must mean that someone can read
it: a participant with no recipient account (``gateway recipients add``) has
no inbox to read, and the channel refuses, so that the recipient's waterfall
moves on to a channel that reaches it.

The ``portal`` mode, when the gateway has an SMTP relay (``notices``), tells
the recipient instead: an e-mail with a one-time sign-in link to the document
(never the invoice itself); the document is delivered once the relay took the
notice, and retrieved when the company opens or downloads it in the portal.
A recipient with no e-mail address is refused with that reason, so the
waterfall moves on.
"""

from __future__ import annotations

from typing import Protocol

from gateway.channels.base import Outcome, Parcel, Recipient
from gateway.channels.email_notice import PortalNotices


class InboxAccounts(Protocol):
    """Who has an inbox: the store's recipient accounts, seen from here."""

    async def has_recipient_account(self, participant: str) -> bool: ...


_HOW = {"api": "its inbox API", "portal": "its portal inbox"}


class InboxChannel:
    def __init__(
        self, mode: str, accounts: InboxAccounts, notices: PortalNotices | None = None
    ) -> None:
        if mode not in _HOW:
            raise ValueError(f"an inbox channel serves api or portal, not {mode!r}")
        self.mode = mode
        self.accounts = accounts
        self.notices = notices if mode == "portal" else None

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        if self.notices is not None:
            return await self.notices.document(parcel, recipient)
        if not await self.accounts.has_recipient_account(recipient.id):
            return Outcome.refused(
                f"{recipient.id} has no inbox account to read it "
                f"(an admin creates one with: gateway recipients add {recipient.id})"
            )
        return Outcome.delivered(
            f"delivered to {recipient.id}: available in {_HOW[self.mode]}",
            {"inbox": f"/api/v1/inbox/{parcel.meta.id}"},
        )
