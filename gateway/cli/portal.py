"""``gateway portal link PARTICIPANT``: a one-time sign-in link to the
recipient portal for one of our companies, printed alone on its line (an
admin hands it over by hand, e.g. to a company whose e-mail is not set yet).

The link is like the ones the portal e-mails: signed with the key in
``portal.key`` beside gateway.toml, valid once, for 15 minutes.

Exit codes: 0 printed, 2 usage or configuration error (a participant that is
not ours is one).
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gateway.cli import common
from gateway.core.signin import new_link, sign_in_url
from gateway.model import InvalidIdentifier, ParticipantId

if TYPE_CHECKING:  # the store (and redis) is imported only when the command runs
    from gateway.store.base import PartnerStore


def cmd_link(args: argparse.Namespace) -> int:
    try:
        pid = ParticipantId.parse(args.participant)
    except InvalidIdentifier as exc:
        return common.fail(str(exc))
    settings = common.load(args)
    ours = settings.participant(pid) is not None
    if not ours:

        async def in_directory(store: PartnerStore) -> bool:
            partner = await store.get_partner(str(pid))
            return partner is not None and partner.network == settings.network.name

        ours = common.with_store(settings, in_directory)
    if not ours:
        listed = ", ".join(f"{p.id} ({p.name})" for p in settings.participants) or "none"
        return common.fail(
            f"{pid} is not one of our participants: neither in [[participants]] of"
            f" {settings.path} nor a partner of network {settings.network.name!r} in the"
            f" directory; the configured ones are: {listed}"
        )
    from gateway.service.channels import portal_key

    link = new_link(str(pid), secrets.token_urlsafe(16), datetime.now(UTC))
    print(sign_in_url(settings.network.base_url, portal_key(settings), link))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``portal link`` to the gateway command's subparsers."""
    p = common.command(
        sub,
        "portal",
        "the recipient portal: print a one-time sign-in link for a company",
        ["gateway portal link 0088:7300010000001"],
    )
    psub = p.add_subparsers(dest="portal_command", required=True, metavar="ACTION")
    c = common.command(
        psub,
        "link",
        "print a one-time sign-in link (15 minutes) to the portal for one of our participants",
        [
            "gateway portal link 0088:7300010000001",
            "gateway portal link 0088:7300010000001 --config var/alpha/gateway.toml",
        ],
        notes="The URL is printed alone on its line. " + common.CONFIG_RULE,
    )
    c.add_argument("participant", metavar="PARTICIPANT", help="the company's id, ICD:value")
    common.add_config(c)
    c.set_defaults(func=cmd_link)
