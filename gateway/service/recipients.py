"""Who a document is for, as the channels need it: name, e-mail, postal
address and reception waterfall, from the configuration (our participants),
else the directory (partners), else the document itself (a company in no
network, reached on paper at the address the invoice gives).

For one of our participants of the configuration, the e-mail and postal
address it chose in the recipient portal (if it did) replace the file's:
they are the company's own, newer word.
"""

from __future__ import annotations

from typing import Protocol

from gateway.channels.base import Recipient
from gateway.config.settings import Settings
from gateway.model import DocumentMeta, ParticipantId, Partner, RouteDecision
from gateway.model.portal import PortalChoice


class RecipientSource(Protocol):
    """The directory and the portal's choices, as the store serves them."""

    async def get_partner(self, pid: str) -> Partner | None: ...

    async def portal_choice(self, participant: str) -> PortalChoice | None: ...


async def recipient_of(
    settings: Settings, store: RecipientSource, meta: DocumentMeta, decision: RouteDecision
) -> Recipient:
    """The recipient of ``meta``; its waterfall is the route's (routing may
    have left paper out under a mandate)."""
    pid = ParticipantId.parse(meta.recipient)
    own = settings.participant(pid)
    if own is not None:
        chosen = await store.portal_choice(str(pid))
        return Recipient(
            id=str(pid),
            name=own.name,
            email=own.email if chosen is None else chosen.email,
            address=own.address if chosen is None else chosen.address,
            reception=decision.channels or own.reception,
            export_dir=own.export_dir,
            source="configuration",
        )
    partner = await store.get_partner(str(pid))
    if partner is not None:
        return Recipient(
            id=str(pid),
            name=partner.name,
            email=partner.email,
            address=partner.address,
            reception=decision.channels or partner.modes,
            source="directory",
        )
    return Recipient(
        id=str(pid),
        name=meta.buyer_name or str(pid),
        reception=decision.channels or ("paper",),
        source="document",
    )
