"""The ``api`` and ``portal`` reception channels: the document stays in the
store, where the recipient reads it through the inbox API (and the portal,
which is built on it).

Nothing is copied anywhere, so "delivered" must mean that someone can read
it: a participant with no recipient account (``gateway recipients add``) has
no inbox to read, and the channel refuses, so that the recipient's waterfall
moves on to a channel that reaches it.
"""

from __future__ import annotations

from typing import Protocol

from gateway.channels.base import Outcome, Parcel, Recipient


class InboxAccounts(Protocol):
    """Who has an inbox: the store's recipient accounts, seen from here."""

    async def has_recipient_account(self, participant: str) -> bool: ...


_HOW = {"api": "its inbox API", "portal": "its portal inbox"}


class InboxChannel:
    def __init__(self, mode: str, accounts: InboxAccounts) -> None:
        if mode not in _HOW:
            raise ValueError(f"an inbox channel serves api or portal, not {mode!r}")
        self.mode = mode
        self.accounts = accounts

    async def deliver(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        if not await self.accounts.has_recipient_account(recipient.id):
            return Outcome.refused(
                f"{recipient.id} has no inbox account to read it "
                f"(an admin creates one with: gateway recipients add {recipient.id})"
            )
        return Outcome.delivered(
            f"delivered to {recipient.id}: available in {_HOW[self.mode]}",
            {"inbox": f"/api/v1/inbox/{parcel.meta.id}"},
        )
