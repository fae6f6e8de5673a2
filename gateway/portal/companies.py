"""Which of our companies an e-mail address or an id stands for, and what the
portal shows of them: our participants of the configuration file (with the
e-mail they chose in the portal, if they did), then the partners of our
network in the directory.

Finding a directory partner by e-mail walks the directory a page at a time:
fine for the directories the portal serves today (thousands); an index by
e-mail is the next step for a million.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.settings import Settings
from gateway.errors import InputError
from gateway.model import ParticipantId
from gateway.portal.context import PortalData

_PAGE = 1000
MAX_MATCHES = 5  # links sent for one address at most


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    email: str
    address: tuple[str, ...]
    reception: tuple[str, ...]
    source: str  # "configuration" or "directory"


async def company(settings: Settings, store: PortalData, pid: str) -> Company | None:
    """One of our companies by id (as str(ParticipantId)); None if not ours."""
    try:
        parsed = ParticipantId.parse(pid)
    except (InputError, ValueError):
        return None
    own = settings.participant(parsed)
    if own is not None:
        chosen = await store.portal_choice(str(parsed))
        if chosen is not None:
            return Company(
                str(parsed),
                own.name,
                chosen.email,
                chosen.address,
                chosen.reception,
                "configuration",
            )
        return Company(
            str(parsed), own.name, own.email, own.address, own.reception, "configuration"
        )
    partner = await store.get_partner(str(parsed))
    if partner is not None and partner.network == settings.network.name:
        return Company(
            partner.id, partner.name, partner.email, partner.address, partner.modes, "directory"
        )
    return None


async def companies_of_email(settings: Settings, store: PortalData, email: str) -> list[str]:
    """The ids of our companies that receive at ``email`` (case-insensitive)."""
    wanted = email.strip().lower()
    found: list[str] = []
    if not wanted:
        return found
    for own in settings.participants:
        known = await company(settings, store, str(own.id))
        if known is not None and known.email.lower() == wanted:
            found.append(known.id)
    after = ""
    while len(found) < MAX_MATCHES:
        page = await store.list_partners(after=after, limit=_PAGE)
        for partner in page:
            if (
                partner.network == settings.network.name
                and partner.email.lower() == wanted
                and partner.id not in found
                and not _in_configuration(settings, partner.id)
            ):
                found.append(partner.id)
        if len(page) < _PAGE:
            break
        after = page[-1].id
    return found[:MAX_MATCHES]


def _in_configuration(settings: Settings, pid: str) -> bool:
    """Whether a directory id is also a participant of the file (which then rules)."""
    try:
        return settings.participant(ParticipantId.parse(pid)) is not None
    except (InputError, ValueError):
        return False
