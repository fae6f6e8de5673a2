"""``gateway sample``: a Peppol BIS 3 document between any two parties, checked
by the gateway's own validation before it is written."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from gateway.cli import common
from gateway.cli.findings import grouped
from gateway.model import DocumentKind, InvalidIdentifier, ParticipantId

KINDS = {"invoice": DocumentKind.INVOICE, "credit-note": DocumentKind.CREDIT_NOTE}


def cmd_sample(args: argparse.Namespace) -> int:
    from gateway.config.settings import LimitSettings
    from gateway.samples import sample_document
    from gateway.validation import validate

    try:
        seller, buyer = ParticipantId.parse(args.seller), ParticipantId.parse(args.buyer)
    except InvalidIdentifier as exc:
        return common.fail(str(exc))
    # A new number each time, so that sending two samples is not a duplicate invoice.
    number = args.number or f"SAMPLE-{datetime.now(UTC):%Y%m%d-%H%M%S-%f}"
    data = sample_document(KINDS[args.type], seller=seller, buyer=buyer, business_id=number)
    report, _root, _facts = validate(data, LimitSettings())
    if not report.valid:  # e.g. an id that breaks its scheme's format rule
        print(
            "gateway: the sample would not pass validation with these ids; nothing written:",
            file=sys.stderr,
        )
        for line in grouped(f.to_json() for f in report.findings if f.flag == "fatal"):
            print(f"  {line}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"wrote {args.output}: {args.type} {number} from {seller} to {buyer}")
    else:
        sys.stdout.buffer.write(data)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "sample",
        "write a valid Peppol BIS 3 invoice or credit note between two parties",
        [
            "gateway sample --seller 0088:5790000000012 --buyer 0088:5790000000029 -o inv.xml",
            "gateway sample --seller 0088:5790000000012 --buyer 0208:0123456749 --type credit-note",
        ],
        notes="The document passes the gateway's own validation (`gateway validate`); ids that\n"
        "break a rule of their scheme (a GLN's check digit...) are refused, nothing written.\n"
        "No configuration is read.",
    )
    p.add_argument("--seller", required=True, metavar="ID", help="seller's participant id")
    p.add_argument("--buyer", required=True, metavar="ID", help="buyer's participant id")
    p.add_argument(
        "--type", choices=sorted(KINDS), default="invoice", help="document type (default invoice)"
    )
    p.add_argument(
        "--number",
        metavar="TEXT",
        help="the invoice number, cbc:ID (default: SAMPLE- and the current time, so each is new)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.set_defaults(func=cmd_sample)
