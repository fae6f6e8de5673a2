"""``gateway print``: close a day's print batch and hand it off; import the
print house's confirmation of what was posted and what came back.

Exit codes as for every gateway command: 0 OK (also: nothing to close),
1 the hand-off failed or a confirmation row was refused, 2 usage or
configuration error (also: a confirmation file without its header).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli import common

if TYPE_CHECKING:
    from gateway.channels.print_status import StatusReport

_SHOWN_REFUSED = 50  # the text report stops there; --json lists them all


def _day(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def cmd_close(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.channels.print_cycle import close_and_hand_off
    from gateway.channels.print_handoff import HandoffError

    settings = common.load(args)
    now = datetime.now(UTC)
    day = args.date or now.date()
    house = settings.print_house
    try:
        done = asyncio.run(
            close_and_hand_off(
                settings.channels.print_dir,
                day,
                network=settings.network.name,
                house=house,
                now=now,
            )
        )
    except HandoffError as exc:
        print(f"gateway: {exc.message}", file=sys.stderr)
        print(f"the batch of {day} is closed and kept; run this command again to hand it off")
        return 1
    batch = done.batch
    if batch is None:
        print(f"no document printed on {day}: nothing to close or hand off")
        return 0
    what = f"{batch.documents} document(s), {batch.pages} page(s)"
    if batch.already_closed:
        print(f"batch {batch.name} was already closed ({what}): {batch.zip}")
    else:
        print(f"batch {batch.name} closed ({what}): {batch.zip}")
    if done.handed_off_before:
        print(f"already handed off: {done.handed_off_before}")
    elif done.handed_off_to:
        print(f"handed off to {done.handed_off_to}")
    else:
        print("no print house configured ([print_house] handoff): the ZIP stays here")
    return 0


def cmd_import_status(args: argparse.Namespace) -> int:
    from gateway.channels.print_status import import_status

    path = Path(args.file)
    if not path.is_file():
        return common.fail(f"cannot read {path}: no such file")
    settings = common.load(args)
    now = datetime.now(UTC)
    report = common.with_store(settings, lambda store: import_status(store, path, now=now))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(_summary(report))
    return 1 if report.refused else 0


def _summary(report: StatusReport) -> str:
    lines = [f"{report.file}:{r.line}: {r.reason}" for r in report.refused[:_SHOWN_REFUSED]]
    if len(report.refused) > _SHOWN_REFUSED:
        lines.append(f"... and {len(report.refused) - _SHOWN_REFUSED} more (see --json)")
    for pid in report.suspect:
        lines.append(f"partner {pid}: postal address marked suspect (letter returned)")
    lines.append(
        f"{report.file}: {report.rows} row(s): {report.added} status(es) recorded,"
        f" {report.known} already recorded, {len(report.refused)} refused"
    )
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``print close|import-status`` to the gateway command's subparsers."""
    p = common.command(
        sub,
        "print",
        "the print batches: close and hand off, import the print house's confirmation",
        ["gateway print close", "gateway print import-status confirmation.csv"],
    )
    psub = p.add_subparsers(dest="print_command", required=True, metavar="ACTION")

    c = common.command(
        psub,
        "close",
        "close a day's print batch and hand it to the print house",
        [
            "gateway print close --config var/alpha/gateway.toml",
            "gateway print close --date 2026-12-08",
        ],
        notes=f"{common.CONFIG_RULE}\n"
        "Builds <network>-<date>.pdf, -manifest.csv and .zip in the day's print folder and\n"
        "hands the ZIP off as [print_house] says. Closing again builds nothing new and hands\n"
        "off only what was not handed off yet. Documents printed after the close go to the\n"
        "next day's batch.",
    )
    c.add_argument(
        "--date",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day's batch to close (default: today, in the gateway's clock: UTC)",
    )
    common.add_config(c)
    c.set_defaults(func=cmd_close)

    c = common.command(
        psub,
        "import-status",
        "record which printed letters were posted or came back",
        [
            "gateway print import-status confirmation.csv --config var/alpha/gateway.toml",
            "gateway print import-status confirmation.csv --json",
        ],
        notes=f"{common.CONFIG_RULE}\n"
        "FILE: CSV with the header document_id,status,date,reason; status posted or\n"
        "returned, date YYYY-MM-DD, reason optional. Refused rows are listed by line\n"
        "(exit 1); the others are recorded. Importing a file again records nothing twice.",
    )
    c.add_argument("file", metavar="FILE", help="the print house's confirmation CSV")
    common.add_config(c)
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_import_status)
