"""Finds which network a recipient belongs to: our configuration first, then
the partner directory in the store, then the SMPs of the peer networks we may
send to.

Returns a ``routing.Location``. "Not registered anywhere" is an answer (the
recipient is in no network); "could not ask" is not: it raises a transient
``TransportError``, so the delivery is retried instead of wrongly printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gateway.config.settings import Peer, Settings
from gateway.directory.smp import Found, LookupFailed, LookupResult
from gateway.errors import TransportError
from gateway.model import ParticipantId, Partner
from gateway.model.portal import PortalChoice
from gateway.routing.decision import Location


class PartnerSource(Protocol):
    async def get_partner(self, pid: str) -> Partner | None: ...


class ChoiceSource(Protocol):
    """The reception choices companies made in the recipient portal."""

    async def portal_choice(self, participant: str) -> PortalChoice | None: ...


class SmpSource(Protocol):
    async def lookup(self, peer: Peer, pid: ParticipantId, doctype: str) -> LookupResult: ...


class Locator:
    """Finds the network of a recipient: our settings, then our directory, then peer SMPs."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        partners: PartnerSource | None = None,
        smp: SmpSource | None = None,
        choices: ChoiceSource | None = None,
    ) -> None:
        self._settings = settings
        self._partners = partners
        self._smp = smp
        self._choices = choices

    async def locate(self, pid: ParticipantId, document_type: str = "") -> Location:
        s = self._settings()
        own = s.participant(pid)
        if own is not None:
            # A choice the company made in the portal outranks the file's:
            # it is the newer word, and the company's own.
            chosen = None if self._choices is None else await self._choices.portal_choice(str(pid))
            if chosen is not None:
                return Location(s.network.name, "portal preferences", chosen.reception)
            return Location(s.network.name, "configuration", own.reception)
        for peer in s.peers:
            if pid in peer.participants:
                return Location(peer.name, "configuration")
        asked = ["configuration"]
        if self._partners is not None:
            partner = await self._partners.get_partner(str(pid))
            if partner is not None and partner.network:
                return Location(partner.network, "directory", partner.modes)
            asked.append("directory")
        if self._smp is not None and document_type:
            found = await self._ask_peers(s, pid, document_type)
            if found is not None:
                return found
            asked.append(
                "SMPs of " + ", ".join(p.name for p in s.peers if p.agreement.allows("send"))
            )
        return Location(None, " and ".join(asked))

    async def _ask_peers(
        self, s: Settings, pid: ParticipantId, document_type: str
    ) -> Location | None:
        assert self._smp is not None
        failures = []
        for peer in s.peers:
            if not peer.agreement.allows("send"):
                continue
            result = await self._smp.lookup(peer, pid, document_type)
            if isinstance(result, Found):
                return Location(peer.name, f"SMP of {peer.name}")
            if isinstance(result, LookupFailed):
                failures.append(f"{peer.name}: {result.reason}")
        if failures:
            raise TransportError("could not ask the SMP of " + "; ".join(failures))
        return None
