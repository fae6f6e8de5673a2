"""``gateway partners``: import, list and show the partner directory.

Hooked into the main parser by ``cli_partners.register(sub)``. Exit codes as
for every gateway command: 0 OK, 1 some rows were bad (import) or the
partner is unknown (show), 2 usage or configuration error. The store is the
one the configuration names, embedded or Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.config import loader as config_mod
from gateway.errors import ConfigError, GatewayError
from gateway.model import InvalidIdentifier, ParticipantId

if TYPE_CHECKING:  # the store (and redis) is imported only by commands that use it
    from gateway.directory.partner_files import ImportReport
    from gateway.model import Partner
    from gateway.store.base import PartnerStore

T = TypeVar("T")
DEFAULT_CONFIG = os.environ.get("GATEWAY_CONFIG", "gateway.toml")
_SHOWN_BAD_ROWS = 50  # the text report stops there; --json lists them all


def _fail(message: str, code: int = 2) -> int:
    print(f"gateway: {message}", file=sys.stderr)
    return code


def _with_store(config_path: str, work: Callable[[PartnerStore], Awaitable[T]]) -> T:
    """Open the configured store, run ``work`` on it, close it."""
    settings = config_mod.load(config_path)
    st = settings.store
    try:
        from gateway.store.factory import make_store

        store = make_store(st.url, prefix=st.prefix, sync=st.sync)
    except ValueError as exc:
        raise ConfigError(str(settings.path), "store.url", str(exc)) from None

    async def run() -> T:
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    import asyncio  # here, not at the top: `gateway validate` starts without it

    return asyncio.run(run())


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
        args.config, lambda store: import_file(store, path, all_or_nothing=args.all_or_nothing)
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

    total, partners = _with_store(args.config, work)
    more = partners[-1].id if len(partners) == args.limit else None
    if args.json:
        out = {"total": total, "partners": [p.to_json() for p in partners], "next_after": more}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for p in partners:
        print(f"{p.id:<40} {p.network or '-':<12} {p.reception:<8} {p.name}")
    print(
        f"{len(partners)} of {total} partner(s)" + (f"; next page: --after {more}" if more else "")
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    pid = _pid(args.id)
    partner = _with_store(args.config, lambda store: store.get_partner(pid))
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
        ("network", p.network or "(none yet)"),
        ("receives", ", ".join(p.document_types) or "BIS Billing 3.0 invoice and credit note"),
        ("reception", p.reception),
        ("email", p.email or "-"),
        ("address", " / ".join(p.address) or "-"),
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
    p = sub.add_parser("partners", help="the partner directory: import, list, show")
    psub = p.add_subparsers(dest="partners_command", required=True, metavar="ACTION")

    c = psub.add_parser(
        "import",
        help="import partners from a CSV or JSON lines file",
        description="Header row (CSV): id,name,network,document_types,reception,email,address,"
        "country; several values in one cell are separated by ';'. JSON lines: one object "
        "per line with the same keys. Bad rows are reported by line; exit 1 if any.",
    )
    c.add_argument("file", metavar="FILE", help="CSV or JSON lines file")
    c.add_argument("--all-or-nothing", action="store_true", help="write nothing if any row is bad")
    _common(c)
    c.set_defaults(func=_guarded(cmd_import))

    c = psub.add_parser("list", help="list partners ordered by id, a page at a time")
    c.add_argument("--after", metavar="ID", help="start after this id (the last one shown)")
    c.add_argument("--limit", type=int, default=100, metavar="N", help="page size (default 100)")
    _common(c)
    c.set_defaults(func=_guarded(cmd_list))

    c = psub.add_parser("show", help="show one partner")
    c.add_argument("id", metavar="ID", help="participant id such as 0088:7300010000001")
    _common(c)
    c.set_defaults(func=_guarded(cmd_show))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=DEFAULT_CONFIG, help="path to gateway.toml")
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
