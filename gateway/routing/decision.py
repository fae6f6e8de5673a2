"""Where a document goes, and why. Pure: settings, facts and the directory's
answer in, a decision with its chain of reasons out.

The order is the delivery waterfall users expect: our own participant by the
channel they chose; a peer network under its agreement; paper for a
recipient in no network, unless a mandate requires network delivery for
this flow (then refuse, and mark the recipient as a prospect to onboard).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gateway.config.settings import Settings
from gateway.model import Direction, ParticipantId, RouteDecision, RouteKind
from gateway.routing.agreements import mandate_for, refusal


@dataclass(frozen=True, slots=True)
class Location:
    """What the directory found out about a recipient."""

    network: str | None  # our network's name, a peer network's name, or None: in no network
    source: str  # how we know: "configuration", "directory", "SMP of beta", ...
    # Our own participants: their reception modes, in the order they are tried.
    reception: tuple[str, ...] = ("network",)


@dataclass(frozen=True, slots=True)
class RouteFacts:
    """The facts of a document that routing depends on."""

    document_type: str
    size: int
    signed: bool = False
    seller_country: str = ""
    buyer_country: str = ""
    buyer_is_business: bool = False


def decide(
    settings: Settings,
    *,
    recipient: ParticipantId,
    location: Location,
    facts: RouteFacts,
    direction: Direction,
    today: date,
) -> RouteDecision:
    ours = settings.network.name
    if location.network == ours:
        return _own(settings, recipient, location, facts, today)
    if direction is Direction.INBOUND:
        # A peer sent us a document for someone we do not serve: never relay.
        return RouteDecision(
            RouteKind.REFUSE, "", (f"{recipient} is not a participant of this network",)
        )
    if location.network is not None:
        return _peer(settings, recipient, location, facts, today)
    return _nowhere(settings, recipient, location, facts, today)


def _own(
    settings: Settings, recipient: ParticipantId, where: Location, facts: RouteFacts, today: date
) -> RouteDecision:
    modes = where.reception or ("network",)
    reasons = [
        f"{recipient} is a participant of this network ({settings.network.name}), "
        f"known from the {where.source}",
        f"it chose to receive by {' then '.join(modes)}",
    ]
    if "paper" in modes:
        mandate = _mandate(settings, facts, today)
        if mandate:
            modes = tuple(m for m in modes if m != "paper") or ("network",)
            reasons.append(f"{mandate}: paper is left out, delivered by {' then '.join(modes)}")
    if modes == ("paper",):
        return RouteDecision(RouteKind.PRINT, "paper", tuple(reasons), channels=modes)
    return RouteDecision(RouteKind.LOCAL, modes[0], tuple(reasons), channels=modes)


def _peer(
    settings: Settings, recipient: ParticipantId, where: Location, facts: RouteFacts, today: date
) -> RouteDecision:
    network = where.network or ""
    found = f"{recipient} belongs to network {network}, known from the {where.source}"
    peer = settings.peer_named(network)
    if peer is None:
        return RouteDecision(
            RouteKind.REFUSE, network, (found, f"network {network} has no agreement with us")
        )
    agreement = peer.agreement
    why_not = refusal(
        agreement,
        way="send",
        document_type=facts.document_type,
        size=facts.size,
        signed=facts.signed,
        today=today,
    )
    if why_not:
        return RouteDecision(RouteKind.REFUSE, network, (found, why_not), agreement.id)
    covers = f"agreement {agreement.id} covers this document type and direction"
    return RouteDecision(RouteKind.PEER, network, (found, covers), agreement.id)


def _nowhere(
    settings: Settings, recipient: ParticipantId, where: Location, facts: RouteFacts, today: date
) -> RouteDecision:
    found = f"{recipient} is in no known network ({where.source})"
    mandate = _mandate(settings, facts, today)
    if mandate:
        return RouteDecision(
            RouteKind.REFUSE,
            "",
            (found, f"paper not allowed: {mandate}", "recorded as a prospect to onboard"),
            prospect=True,
        )
    return RouteDecision(
        RouteKind.PRINT, "paper", (found, _paper_reason(facts)), channels=("paper",)
    )


def _mandate(settings: Settings, facts: RouteFacts, today: date) -> str:
    m = mandate_for(
        settings.mandates,
        seller_country=facts.seller_country,
        buyer_country=facts.buyer_country,
        buyer_is_business=facts.buyer_is_business,
        today=today,
    )
    if m is None:
        return ""
    ref = f" ({m.reference})" if m.reference else ""
    return (
        f"network delivery is mandatory for domestic B2B invoices in {m.country} "
        f"since {m.start.isoformat()}{ref}"
    )


def _paper_reason(facts: RouteFacts) -> str:
    if not facts.buyer_is_business:
        return "paper is allowed: the buyer is not a registered business"
    if facts.seller_country != facts.buyer_country:
        return "paper is allowed: a cross-border flow under no mandate"
    return "paper is allowed: no mandate covers this flow"
