"""``gateway settlement``: documents exchanged with each peer in a month,
the fees due each way and who owes whom."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime

from gateway.cli import common
from gateway.routing.settlement import settlement


def previous_month(today: date) -> str:
    """The calendar month before ``today``'s, as YYYY-MM."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _month(text: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month such as 2026-11")
    return text


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
