"""Where a document goes, and why. Pure: settings and facts in, a decision out.

The routing issue grows this into the full engine (directory look-ups,
agreements' terms, mandates); the shape of the answer stays: a decision
with its chain of reasons, recorded in the document's status history.
"""

from __future__ import annotations

from datetime import date

from gateway.config import Agreement, Peer, Settings
from gateway.model import Direction, ParticipantId, RouteDecision, RouteKind

_CHANNEL_OF_RECEPTION = {"network": "inbox", "portal": "inbox", "paper": "print"}


def decide(
    settings: Settings,
    *,
    recipient: ParticipantId,
    document_type: str,
    direction: Direction,
    today: date,
) -> RouteDecision:
    own = settings.participant(recipient)
    if own is not None:
        channel = _CHANNEL_OF_RECEPTION[own.reception]
        reasons = (
            f"{recipient} is a participant of this network ({settings.network.name})",
            f"{own.name} chose to receive by {own.reception}",
        )
        if channel == "print":
            return RouteDecision(RouteKind.PRINT, "paper", reasons)
        return RouteDecision(RouteKind.LOCAL, own.reception, reasons)
    if direction is Direction.INBOUND:
        # A peer sent us a document for someone we do not serve: never relay.
        return RouteDecision(
            RouteKind.REFUSE, "", (f"{recipient} is not a participant of this network",)
        )
    peer = _peer_of(settings, recipient)
    if peer is not None:
        problem = _agreement_problem(peer.agreement, document_type, today)
        found = f"{recipient} belongs to peer network {peer.name}"
        if problem:
            return RouteDecision(RouteKind.REFUSE, peer.name, (found, problem))
        return RouteDecision(
            RouteKind.PEER,
            peer.name,
            (found, f"the agreement with {peer.name} covers this document type and direction"),
        )
    return RouteDecision(
        RouteKind.PRINT,
        "paper",
        (
            f"{recipient} is in no known network",
            "paper delivery is allowed for this recipient",
        ),
    )


def _peer_of(settings: Settings, recipient: ParticipantId) -> Peer | None:
    for peer in settings.peers:
        if recipient in peer.participants:
            return peer
    return None


def _agreement_problem(agreement: Agreement, document_type: str, today: date) -> str:
    if agreement.direction == "receive":
        return "the agreement only allows receiving from this network, not sending to it"
    if agreement.valid_from and today < agreement.valid_from:
        return f"the agreement is valid only from {agreement.valid_from.isoformat()}"
    if agreement.valid_until and today > agreement.valid_until:
        return f"the agreement expired on {agreement.valid_until.isoformat()}"
    if agreement.document_types and document_type not in agreement.document_types:
        return "the agreement does not cover this document type"
    return ""
