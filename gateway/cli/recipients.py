"""``gateway recipients``: the accounts that read an inbox through the API
(``GET /api/v1/inbox``). An account reads the documents addressed to one
participant of ours; its bearer token is printed once, at ``add``, and only
its SHA-256 is kept in the store.

Exit codes as for every gateway command: 0 OK, 1 the account is unknown
(revoke) or the store refused, 2 usage or configuration error (a participant
that is not ours is one).
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from gateway.cli import common, webhooks
from gateway.config.settings import Settings, hash_token
from gateway.errors import InputError
from gateway.model import InvalidIdentifier, ParticipantId, RecipientAccount
from gateway.model.webhooks import RECIPIENT, owner_key

if TYPE_CHECKING:  # the store (and redis) is imported only by commands that use it
    from gateway.store.base import AccountStore, PartnerStore, WebhookStore

    class RecipientsStore(AccountStore, PartnerStore, WebhookStore, Protocol):
        """The accounts, the directory that says whether a participant is ours,
        and the webhook subscriptions (``add --webhook``)."""


T = TypeVar("T")
TOKEN_PREFIX = "rcp_"  # noqa: S105 - a prefix telling a recipient token from a sender's


def new_token() -> str:
    """A fresh recipient token: 32 random bytes, URL-safe, behind the prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _with_store(settings: Settings, work: Callable[[RecipientsStore], Awaitable[T]]) -> T:
    return common.with_store(settings, work)


async def _is_ours(settings: Settings, store: RecipientsStore, pid: ParticipantId) -> bool:
    """A participant of our configuration, or a directory partner in our network."""
    if settings.participant(pid) is not None:
        return True
    partner = await store.get_partner(str(pid))
    return partner is not None and partner.network == settings.network.name


def cmd_add(args: argparse.Namespace) -> int:
    try:
        pid = ParticipantId.parse(args.participant)
    except InvalidIdentifier as exc:
        return common.fail(str(exc))
    name = args.name or str(pid)
    if not name.strip() or not name.isprintable():
        return common.fail(f"--name {name!r} must be printable and not blank")
    settings = common.load(args)
    if args.webhook:
        from gateway.service.webhooks import check_url

        try:  # before anything is stored
            check_url(args.webhook, production=settings.network.environment == "production")
        except InputError as exc:
            return common.fail(f"--webhook: {exc.message}")
    token = new_token()
    account = RecipientAccount(name, hash_token(token), (str(pid),), datetime.now(UTC))
    secret = ""

    async def work(store: RecipientsStore) -> str:
        nonlocal secret
        if not await _is_ours(settings, store, pid):
            return "foreign"
        if any(a.name == name for a in await store.list_recipient_accounts()):
            return "taken"
        await store.add_recipient_account(account)
        if args.webhook:
            owner = owner_key(RECIPIENT, str(pid))
            secret = await webhooks.subscribe(store, settings, owner, args.webhook)
        return "added"

    outcome = _with_store(settings, work)
    if outcome == "foreign":
        return common.fail(
            f"participant {pid} is not one of ours: neither in [[participants]] of"
            f" {settings.path} nor a partner of network {settings.network.name!r} in the directory"
        )
    if outcome == "taken":
        return common.fail(f"a recipient account named {name!r} exists already; give --name")
    print(f"recipient account {name!r} reads the inbox of {pid}")
    print(f"token (shown once, keep it secret): {token}")
    if secret:
        print(f"webhook {args.webhook} is called for each new document (docs/webhooks.md)")
        print(f"secret (shown once): {secret}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    settings = common.load(args)
    accounts = _with_store(settings, lambda store: store.list_recipient_accounts())
    if args.json:
        out = [
            {
                "name": a.name,
                "participants": list(a.participants),
                "created_at": a.created_at.isoformat(),
                "revoked": a.revoked,
            }
            for a in accounts
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for a in accounts:
        status = "revoked" if a.revoked else "active"
        created = a.created_at.strftime("%Y-%m-%d %H:%M")
        print(f"{a.name:<32} {status:<8} {created}  {', '.join(a.participants)}")
    print(f"{len(accounts)} recipient account(s)")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    settings = common.load(args)
    if not _with_store(settings, lambda store: store.revoke_recipient_account(args.name)):
        return common.fail(f"no active recipient account named {args.name!r}", 1)
    print(f"recipient account {args.name!r} revoked: its token reads nothing from now on")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``recipients add|list|revoke|webhook`` to the gateway command's subparsers."""
    p = common.command(
        sub,
        "recipients",
        "recipient accounts reading an inbox through the API (add, list, revoke), webhooks",
        ["gateway recipients add 0088:7300010000001", "gateway recipients list"],
    )
    rsub = p.add_subparsers(dest="recipients_command", required=True, metavar="ACTION")

    c = common.command(
        rsub,
        "add",
        "create an account reading one participant's inbox and print its token once",
        [
            "gateway recipients add 0088:7300010000001",
            "gateway recipients add 0088:7300010000001 --name buyer-erp --config gateway.toml",
        ],
        notes="The participant must be ours: in [[participants]] of the configuration, or a\n"
        "partner of our network in the directory (gateway partners import).\n" + common.CONFIG_RULE,
    )
    c.add_argument("participant", metavar="PARTICIPANT", help="e.g. 0088:7300010000001")
    c.add_argument("--name", help="account name (default: the participant id)")
    c.add_argument(
        "--webhook",
        metavar="URL",
        help="also call URL for each new document (as `gateway recipients webhook`)",
    )
    common.add_config(c)
    c.set_defaults(func=cmd_add)

    c = common.command(
        rsub,
        "list",
        "list recipient accounts, revoked ones too",
        ["gateway recipients list", "gateway recipients list --json"],
        notes="Columns: name, active or revoked, created (UTC), participants.\n"
        + common.CONFIG_RULE,
    )
    common.add_config(c)
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_list)

    c = common.command(
        rsub,
        "revoke",
        "revoke a recipient account: its token reads nothing from then on",
        ["gateway recipients revoke buyer-erp"],
        notes=common.CONFIG_RULE,
    )
    c.add_argument("name", metavar="NAME", help="account name, as `gateway recipients list` shows")
    common.add_config(c)
    c.set_defaults(func=cmd_revoke)

    webhooks.add_recipient_webhook(rsub)
