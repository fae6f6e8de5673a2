"""Who a document is for, as the channels need it: name, e-mail, postal
address and reception waterfall, from the configuration (our participants),
else the directory (partners), else the document itself (a company in no
network, reached on paper at the address the invoice gives).
"""

from __future__ import annotations

from typing import Protocol

from gateway.channels.base import Recipient
from gateway.config.settings import Settings
from gateway.model import DocumentMeta, ParticipantId, Partner, RouteDecision


class PartnerReader(Protocol):
    async def get_partner(self, pid: str) -> Partner | None: ...


async def recipient_of(
    settings: Settings, partners: PartnerReader, meta: DocumentMeta, decision: RouteDecision
) -> Recipient:
    """The recipient of ``meta``; its waterfall is the route's (routing may
    have left paper out under a mandate)."""
    pid = ParticipantId.parse(meta.recipient)
    own = settings.participant(pid)
    if own is not None:
        return Recipient(
            id=str(pid),
            name=own.name,
            email=own.email,
            address=own.address,
            reception=decision.channels or own.reception,
            export_dir=own.export_dir,
            source="configuration",
        )
    partner = await partners.get_partner(str(pid))
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
