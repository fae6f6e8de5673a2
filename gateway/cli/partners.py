"""``gateway partners``: import, list and show the partner directory.

Hooked into the main parser by ``cli_partners.register(sub)``. Exit codes as
for every gateway command: 0 OK, 1 some rows were bad (import) or the
partner is unknown (show), 2 usage or configuration error. The store is the
one the configuration names, embedded or Redis.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.cli import common
from gateway.errors import ConfigError, GatewayError
from gateway.model import InvalidIdentifier, ParticipantId

if TYPE_CHECKING:  # the store (and redis) is imported only by commands that use it
    from gateway.directory.partner_files import ImportReport
    from gateway.model import Partner
    from gateway.store.base import PartnerStore

T = TypeVar("T")
PROSPECT = "(prospect)"  # a partner in no network: refused paper under a mandate
_SHOWN_BAD_ROWS = 50  # the text report stops there; --json lists them all


def _fail(message: str, code: int = 2) -> int:
    print(f"gateway: {message}", file=sys.stderr)
    return code


def _with_store(args: argparse.Namespace, work: Callable[[PartnerStore], Awaitable[T]]) -> T:
    """Open the configured store, run ``work`` on it, close it."""
    return common.with_store(common.load(args), work)


def _pid(text: str) -> str:
    # Ids are looked up as stored: canonical, the value lower-cased.
    return str(ParticipantId.parse(text))


# --- commands ---------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from gateway.directory.partner_files import import_file

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"cannot read {path}: no such file")
    report = _with_store(
        args, lambda store: import_file(store, path, all_or_nothing=args.all_or_nothing)
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(_import_summary(report))
    return 1 if report.bad else 0


def _import_summary(report: ImportReport) -> str:
    lines = []
    for bad in report.bad[:_SHOWN_BAD_ROWS]:
        lines.append(f"{report.file}:{bad.line}: {bad.reason}")
    if len(report.bad) > _SHOWN_BAD_ROWS:
        lines.append(f"... and {len(report.bad) - _SHOWN_BAD_ROWS} more bad rows (see --json)")
    outcome = f"{report.written} partner(s) written, {len(report.bad)} bad row(s)"
    if report.all_or_nothing and report.bad:
        outcome += "; nothing written (--all-or-nothing)"
    lines.append(f"{report.file}: {report.rows} row(s): {outcome}")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    if args.limit <= 0:
        return _fail("--limit must be at least 1")
    after = _pid(args.after) if args.after else ""

    async def work(store: PartnerStore) -> tuple[int, list[Partner]]:
        return await store.count_partners(), await store.list_partners(
            after=after, limit=args.limit
        )

    total, partners = _with_store(args, work)
    more = partners[-1].id if len(partners) == args.limit else None
    if args.json:
        out = {"total": total, "partners": [p.to_json() for p in partners], "next_after": more}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for p in partners:
        print(f"{p.id:<40} {p.network or PROSPECT:<12} {p.reception:<8} {p.name}")
    print(
        f"{len(partners)} of {total} partner(s)" + (f"; next page: --after {more}" if more else "")
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    pid = _pid(args.id)
    partner = _with_store(args, lambda store: store.get_partner(pid))
    if partner is None:
        return _fail(f"no partner {pid} in the directory", 1)
    if args.json:
        print(json.dumps(partner.to_json(), indent=2, ensure_ascii=False))
    else:
        print(_describe(partner))
    return 0


def _describe(p: Partner) -> str:
    fields: list[tuple[str, Any]] = [
        ("id", p.id),
        ("name", p.name),
        ("network", p.network or f"{PROSPECT}: in no network yet, one to onboard"),
        ("receives", ", ".join(p.document_types) or "BIS Billing 3.0 invoice and credit note"),
        ("reception", p.reception),
        ("email", p.email or "-"),
        ("address", " / ".join(p.address) or "-"),
        *([("suspect", f"address in doubt: {p.address_suspect}")] if p.address_suspect else []),
        ("country", p.country or "-"),
    ]
    return "\n".join(f"{key + ':':<11}{value}" for key, value in fields)


# --- wiring -----------------------------------------------------------------------


def _guarded(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad ids, files and configurations become one line and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        # The directory (and asyncio) load with the partners commands, not with
        # every command: `gateway validate` starts without them.
        from gateway.directory.partner_files import PartnerFileError

        try:
            return cmd(args)
        except InvalidIdentifier as exc:
            return _fail(str(exc))
        except (ConfigError, PartnerFileError) as exc:
            return _fail(exc.message)

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``partners import|list|show`` to the gateway command's subparsers."""
    p = common.command(
        sub,
        "partners",
        "the partner directory: import, list, show",
        ["gateway partners import partners.csv", "gateway partners list --limit 20"],
    )
    psub = p.add_subparsers(dest="partners_command", required=True, metavar="ACTION")

    c = common.command(
        psub,
        "import",
        "import partners from a CSV or JSON lines file",
        [
            "gateway partners import partners.csv --config var/alpha/gateway.toml",
            "gateway partners import partners.jsonl --all-or-nothing --json",
        ],
        description="Import partners from a CSV or JSON lines file. Header row (CSV): "
        "id,name,network,document_types,reception,email,address,country; several values in "
        "one cell are separated by ';'. JSON lines: one object per line with the same keys. "
        "Bad rows are reported by line; exit 1 if any.",
        notes=common.CONFIG_RULE,
    )
    c.add_argument("file", metavar="FILE", help="CSV or JSON lines file")
    c.add_argument("--all-or-nothing", action="store_true", help="write nothing if any row is bad")
    _common(c)
    c.set_defaults(func=_guarded(cmd_import))

    c = common.command(
        psub,
        "list",
        "list partners ordered by id, a page at a time",
        ["gateway partners list", "gateway partners list --after 0088:5790000000012 --limit 50"],
        notes=f"{common.CONFIG_RULE}\n"
        f"Columns: id, network ({PROSPECT} for a company in no network yet, recorded when a\n"
        "mandate refused paper for it), reception, name.",
    )
    c.add_argument("--after", metavar="ID", help="start after this id (the last one shown)")
    c.add_argument("--limit", type=int, default=100, metavar="N", help="page size (default 100)")
    _common(c)
    c.set_defaults(func=_guarded(cmd_list))

    c = common.command(
        psub,
        "show",
        "show one partner",
        ["gateway partners show 0088:7300010000001 --config var/alpha/gateway.toml"],
        notes=common.CONFIG_RULE,
    )
    c.add_argument("id", metavar="ID", help="participant id such as 0088:7300010000001")
    _common(c)
    c.set_defaults(func=_guarded(cmd_show))


def _common(p: argparse.ArgumentParser) -> None:
    common.add_config(p)
    p.add_argument("--json", action="store_true", help="print JSON")


def main(argv: Sequence[str] | None = None) -> int:
    """``gateway partners ...`` on its own (tests; until the main CLI hooks it in)."""
    top = argparse.ArgumentParser(prog="gateway")
    register(top.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = top.parse_args(argv)
    try:
        code: int = args.func(args)
    except GatewayError as exc:  # e.g. the store cannot be reached
        return _fail(exc.message, 1)
    return code
