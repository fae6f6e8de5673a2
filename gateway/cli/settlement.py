"""``gateway settlement``: documents exchanged with each peer in a month,
the fees due each way and who owes whom."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime
from typing import Any

from gateway.cli import common
from gateway.config.settings import Settings


def previous_month(today: date) -> str:
    """The calendar month before ``today``'s, as YYYY-MM."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _month(text: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month such as 2026-11")
    return text


def settlement(settings: Settings, month: str, counts: list[Any]) -> list[dict[str, Any]]:
    """Per agreement: documents by way and type, the fees due each way, the balance."""
    from decimal import Decimal

    from gateway.routing.agreements import fees_due

    out = []
    agreements = {(c.peer, c.agreement) for c in counts}
    agreements |= {(p.name, p.agreement.id) for p in settings.peers}
    for peer_name, agreement_id in sorted(agreements):
        mine = [c for c in counts if (c.peer, c.agreement) == (peer_name, agreement_id)]
        peer = settings.peer_named(peer_name)
        fees = peer.agreement.fees if peer and peer.agreement.id == agreement_id else None
        row: dict[str, Any] = {"agreement": agreement_id, "peer": peer_name, "month": month}
        row["documents"] = [
            {"way": c.way, "document_type": c.document_type, "count": c.documents} for c in mine
        ]
        balance = Decimal(0)  # what the peer owes us; negative: what we owe
        dues = []
        for way in ("send", "receive"):
            n = sum(c.documents for c in mine if c.way == way)
            if fees is None:
                continue
            due = fees_due(fees, documents=n, way=way, peer=peer_name)
            balance += due.amount if due.payee == "us" else -due.amount
            dues.append(
                {
                    "way": way,
                    "documents": n,
                    "billable": due.billable,
                    "amount": str(due.amount),
                    "payer": due.payer,
                    "payee": due.payee,
                }
            )
        row["fees"] = dues
        row["currency"] = fees.currency if fees else None
        if fees is None:
            row["note"] = "the agreement is no longer in the configuration: fees not computed"
        elif balance > 0:
            row["balance"] = f"{peer_name} owes us {balance} {fees.currency}"
        elif balance < 0:
            row["balance"] = f"we owe {peer_name} {-balance} {fees.currency}"
        else:
            row["balance"] = "nothing is owed"
        out.append(row)
    return out


def cmd_settlement(args: argparse.Namespace) -> int:
    settings = common.load(args)
    month = args.month or previous_month(datetime.now(UTC).date())
    rows = settlement(settings, month, common.with_store(settings, lambda s: s.exchanges(month)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"settlement for {month}, network {settings.network.name}")
    for r in rows:
        print(f"  agreement {r['agreement']} with {r['peer']}:")
        for d in r["documents"]:
            print(f"    {d['way']:<8} {d['count']:>7}  {d['document_type']}")
        for f in r["fees"]:
            print(
                f"    fees for documents {'sent' if f['way'] == 'send' else 'received'}: "
                f"{f['documents']} ({f['billable']} billable) = {f['amount']} {r['currency']}, "
                f"paid by {f['payer']} to {f['payee']}"
            )
        print(f"    {r.get('balance') or r.get('note')}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "settlement",
        "documents exchanged with peers in a month and the fees due",
        [
            "gateway settlement --config var/alpha/gateway.toml",
            "gateway settlement --month 2026-11 --json",
        ],
        notes=f"{common.CONFIG_RULE}\n"
        "Months are calendar months in UTC; a document counts in the month it was exchanged.",
    )
    p.add_argument(
        "--month",
        type=_month,
        metavar="YYYY-MM",
        help="the month to settle (default: the previous calendar month, in UTC)",
    )
    common.add_config(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_settlement)
