"""``gateway route FILE``: where a document would go and why, without sending
or recording anything."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.cli import common
from gateway.config.settings import Settings

# The decision's words for what delivery does; this command only looks.
_RECORDED = "recorded as a prospect"


def _dry(reason: str) -> str:
    if reason.startswith(_RECORDED):
        return "would be " + reason + " (when sent; this dry run records nothing)"
    return reason


async def _locate(settings: Settings, pid: Any, document_type: str) -> Any:
    """Ask what the running gateway would ask: configuration, directory, peers' SMPs."""
    from gateway.directory.lookup import Locator
    from gateway.store.factory import make_store
    from gateway.transport.smp_client import SmpClient

    st = settings.store
    store = make_store(st.url, prefix=st.prefix, sync=st.sync)
    await store.open()
    smp = SmpClient(settings, timeout=settings.delivery.timeout_seconds, cache=store)
    try:
        locator = Locator(lambda: settings, store, smp, choices=store)
        return await locator.locate(pid, document_type)
    finally:
        await smp.close()
        await store.close()


def cmd_route(args: argparse.Namespace) -> int:
    from gateway.model import Direction
    from gateway.routing.decision import RouteFacts, decide
    from gateway.service.intake import check_document

    settings = common.load(args)
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        return common.fail(f"cannot read {args.file}: {exc.strerror}")
    checked = check_document(body, settings.limits)
    facts = checked.facts
    if facts.buyer is None:
        print(f"{args.file}: no route: the buyer has no electronic address")
        return 1
    import asyncio  # here, not at the top: `gateway validate` starts without it

    location = asyncio.run(_locate(settings, facts.buyer, facts.document_type))
    decision = decide(
        settings,
        recipient=facts.buyer,
        location=location,
        facts=RouteFacts(
            document_type=facts.document_type,
            size=len(body),
            signed=facts.signed,
            seller_country=facts.seller_country,
            buyer_country=facts.buyer_country,
            buyer_is_business=facts.buyer_is_business,
        ),
        direction=Direction.OUTBOUND,
        today=datetime.now(UTC).date(),
    )
    if args.json:
        print(json.dumps(decision.to_json(), indent=2))
    else:
        target = f" {decision.target}" if decision.target else ""
        print(f"{args.file}: {decision.kind.value}{target}")
        if args.explain:
            for reason in decision.reasons:
                print(f"  because {_dry(reason)}")
    return 0 if decision.kind.value != "refuse" else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "route",
        "where a document would go, and why (a dry run: nothing is sent or recorded)",
        [
            "gateway route invoice.xml --explain --config var/alpha/gateway.toml",
            "gateway route invoice.xml --json",
        ],
        notes=f"{common.CONFIG_RULE}\n"
        "exit 0 it would be delivered or printed, 1 it would be refused, 2 usage error",
    )
    p.add_argument("file", help="UBL 2.1 Invoice or CreditNote")
    common.add_config(p)
    p.add_argument("--explain", action="store_true", help="print every reason")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_route)
