"""``gateway senders webhook``, ``gateway recipients webhook`` and
``gateway webhooks``: subscribe a sender or one of our participants to
webhook calls, and list the calls made.

A subscription's secret is printed once, when it is made; the store keeps
it sealed with the key in ``[webhooks] key_file`` (``webhooks.key`` beside
the configuration by default), which every gateway process sharing the store
must have. Subscribing again replaces the URL and the secret.

Hooked into the main parser by ``register(sub)`` (senders, webhooks);
``cli.recipients`` puts ``webhook`` into its group with ``add_recipient_webhook``
and subscribes at ``recipients add --webhook`` with ``subscribe``.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gateway.cli import common
from gateway.config.settings import Settings
from gateway.errors import InputError
from gateway.model import InvalidIdentifier, ParticipantId
from gateway.model.webhooks import RECIPIENT, SENDER, DeliveryStatus, owner_key

if TYPE_CHECKING:  # the store (and redis) is imported only by commands that use it
    from gateway.model.webhooks import WebhookDelivery
    from gateway.store.base import Store, WebhookStore

SUBSCRIBE_NOTE = (
    "The secret is printed once: keep it where the receiver checks signatures\n"
    "(docs/webhooks.md). Subscribing again replaces the URL and the secret."
)


async def subscribe(store: WebhookStore, settings: Settings, owner: str, url: str) -> str:
    """Subscribe ``owner`` ("recipient:<participant id>" or "sender:<name>") to
    calls at ``url``; returns the secret, to be shown once. Raises InputError
    for a URL that is not http(s)."""
    from gateway.service.webhook_secrets import SecretBox
    from gateway.service.webhooks import subscribe as store_subscription

    box = SecretBox(settings.webhooks.key_path(settings.path))
    production = settings.network.environment == "production"
    return await store_subscription(
        store, owner, url, box=box, now=datetime.now(UTC), production=production
    )


def recipient_owner(settings: Settings, text: str) -> str:
    """The owner of a participant's subscription; InputError unless it is one of ours."""
    try:
        pid = ParticipantId.parse(text)
    except InvalidIdentifier as exc:
        raise InputError(f"{text!r} is not a participant id: {exc}") from None
    if settings.participant(pid) is None:
        ours = ", ".join(str(p.id) for p in settings.participants) or "none"
        raise InputError(f"{pid} is not one of our participants (ours: {ours})")
    return owner_key(RECIPIENT, str(pid))


def sender_owner(settings: Settings, name: str) -> str:
    """The owner of a sender's subscription; InputError unless [[senders]] names it."""
    if not any(s.name == name for s in settings.senders):
        known = ", ".join(s.name for s in settings.senders) or "none"
        raise InputError(f"no sender named {name!r} in [[senders]] (configured: {known})")
    return owner_key(SENDER, name)


def _change(args: argparse.Namespace, settings: Settings, owner: str) -> int:
    if args.remove:
        if args.url is not None:
            raise InputError("give either URL or --remove, not both")

        async def remove(store: Store) -> bool:
            return await store.remove_subscription(owner)

        if not common.with_store(settings, remove):
            return common.fail(f"{owner} has no webhook", 1)
        print(f"{owner}: webhook removed")
        return 0
    if args.url is None:
        raise InputError("give the URL to call, or --remove")

    async def add(store: Store) -> str:
        return await subscribe(store, settings, owner, args.url)

    secret = common.with_store(settings, add)
    print(f"{owner}: webhook {args.url}")
    print(f"secret (shown once): {secret}")
    return 0


def cmd_sender_webhook(args: argparse.Namespace) -> int:
    settings = common.load(args)
    return _change(args, settings, sender_owner(settings, args.name))


def cmd_recipient_webhook(args: argparse.Namespace) -> int:
    settings = common.load(args)
    return _change(args, settings, recipient_owner(settings, args.participant))


def cmd_deliveries(args: argparse.Namespace) -> int:
    if args.limit <= 0:
        raise InputError(f"--limit must be greater than 0, not {args.limit}")
    settings = common.load(args)
    status = DeliveryStatus.DEAD if args.dead else None

    async def read(store: Store) -> list[WebhookDelivery]:
        return await store.list_webhook_deliveries(status=status, limit=args.limit)

    found = common.with_store(settings, read)
    if args.json:
        print(json.dumps([_json(d) for d in found], indent=2, ensure_ascii=False))
        return 0
    for d in found:
        print(f"{d.id}  {d.status.value:9}  {d.owner}  {d.type}  document {d.document_id}")
        for a in d.history:
            said = f"HTTP {a.status}" if a.status is not None else a.error
            print(f"    {a.at.isoformat(timespec='seconds')}  {said}")
        if d.status is DeliveryStatus.PENDING:
            print(f"    next attempt {d.next_attempt_at.isoformat(timespec='seconds')}")
    if not found:
        print("no dead webhook deliveries" if args.dead else "no webhook deliveries")
    return 0


def _json(d: WebhookDelivery) -> dict[str, object]:
    return {
        "id": d.id,
        "owner": d.owner,
        "type": d.type,
        "document_id": d.document_id,
        "status": d.status.value,
        "created_at": d.created_at.isoformat(),
        "next_attempt_at": d.next_attempt_at.isoformat(),
        "attempts": [
            {"at": a.at.isoformat(), "status": a.status, "error": a.error} for a in d.history
        ],
    }


# --- parsers -------------------------------------------------------------------------


def _subscription_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("url", metavar="URL", nargs="?", help="http(s) URL to POST the calls to")
    p.add_argument("--remove", action="store_true", help="drop the webhook instead")
    common.add_config(p)


def add_recipient_webhook(recipients: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``webhook PARTICIPANT URL`` under a ``recipients`` group's subparsers."""
    c = common.command(
        recipients,
        "webhook",
        "call a URL when a new document arrives for one of our participants",
        [
            "gateway recipients webhook 0088:5790000000012 https://erp.example.com/hooks",
            "gateway recipients webhook 0088:5790000000012 --remove",
        ],
        notes=f"{SUBSCRIBE_NOTE}\n{common.CONFIG_RULE}",
    )
    c.add_argument("participant", metavar="PARTICIPANT", help="one of our participant ids")
    _subscription_args(c)
    c.set_defaults(func=cmd_recipient_webhook)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``senders webhook`` and ``webhooks deliveries``."""
    p = common.command(
        sub,
        "senders",
        "the API's senders: webhook calls for their documents",
        ["gateway senders webhook acme https://erp.example.com/hooks"],
    )
    ssub = p.add_subparsers(dest="senders_command", required=True, metavar="ACTION")
    c = common.command(
        ssub,
        "webhook",
        "call a URL at every state change of the documents a sender submitted",
        [
            "gateway senders webhook acme https://erp.example.com/hooks",
            "gateway senders webhook acme --remove",
        ],
        notes=f"NAME is a [[senders]] name of the configuration.\n{SUBSCRIBE_NOTE}\n"
        f"{common.CONFIG_RULE}",
    )
    c.add_argument("name", metavar="NAME", help="a [[senders]] name")
    _subscription_args(c)
    c.set_defaults(func=cmd_sender_webhook)

    p = common.command(
        sub,
        "webhooks",
        "the webhook calls made and owed",
        ["gateway webhooks deliveries --dead"],
    )
    wsub = p.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    c = common.command(
        wsub,
        "deliveries",
        "list webhook deliveries, newest first, with every attempt",
        ["gateway webhooks deliveries", "gateway webhooks deliveries --dead --json"],
        notes=common.CONFIG_RULE,
    )
    c.add_argument("--dead", action="store_true", help="only the ones given up (dead letters)")
    c.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    c.add_argument("--json", action="store_true", help="print JSON")
    common.add_config(c)
    c.set_defaults(func=cmd_deliveries)
