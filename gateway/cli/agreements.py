"""``gateway agreements check|add``: interconnection agreements with peer networks."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gateway.cli import common
from gateway.config import loader as config_mod
from gateway.config.safety import certificate_problem
from gateway.errors import ConfigError, InputError
from gateway.model import DIRECTIONS, PAYERS, Agreement


def summary(a: Agreement, peer: str) -> dict[str, Any]:
    f = a.fees
    return {
        "peer": peer,
        "id": a.id,
        "direction": a.direction,
        "document_types": list(a.document_types) or "all",
        "valid_from": a.valid_from.isoformat() if a.valid_from else None,
        "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        "max_document_bytes": a.max_document_bytes or None,
        "require_document_signature": a.require_document_signature,
        "delivery_deadline_hours": a.delivery_deadline_hours or None,
        "fees": {
            "per_document": str(f.per_document),
            "payer": f.payer,
            "monthly_free": f.monthly_free,
            "monthly_cap": str(f.monthly_cap) if f.monthly_cap else None,
            "currency": f.currency,
        },
    }


def cmd_agreements_check(args: argparse.Namespace) -> int:
    s = common.load(args)
    rows = [summary(p.agreement, p.name) for p in s.peers]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{s.path}: OK: {len(rows)} agreement(s)")
    for r in rows:
        fees = r["fees"]
        valid = f"{r['valid_from'] or 'always'} to {r['valid_until'] or 'open-ended'}"
        cap = f", cap {fees['monthly_cap']}" if fees["monthly_cap"] else ""
        print(
            f"  {r['id']} with {r['peer']}: {r['direction']}, "
            f"document types {r['document_types']}, "
            f"valid {valid}; fee {fees['per_document']} {fees['currency']} per document paid by "
            f"the {fees['payer']}, {fees['monthly_free']} free a month{cap}"
        )
    return 0


# --- agreements add -----------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def _peer_info(path: str) -> dict[str, Any]:
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read peer info {path}: {exc}") from None
    needed = ("name", "provider_id", "as4_endpoint", "certificate_pem", "participants")
    missing = [k for k in needed if k not in info] if isinstance(info, dict) else list(needed)
    if not isinstance(info, dict) or missing:
        raise InputError(f"{path} is not a `gateway info --json` output (missing {missing})")
    if not _NAME.match(str(info["name"])):
        raise InputError(f"{path}: peer name {info['name']!r} is not a plain name")
    problem = certificate_problem(str(info["certificate_pem"]))
    if problem:  # checked before anything is written: a refusal leaves no file behind
        raise InputError(f"{path}: certificate_pem: {problem}")
    return info


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def stanza(info: dict[str, Any], args: argparse.Namespace, cert_file: str) -> str:
    participants = ", ".join(_toml_str(p) for p in info["participants"])
    lines = [
        "",
        f"# Added by `gateway agreements add` on {datetime.now(UTC).date().isoformat()}.",
        "[[peers]]",
        f"name = {_toml_str(info['name'])}",
        f"provider_id = {_toml_str(info['provider_id'])}",
        f"endpoint = {_toml_str(info['as4_endpoint'])}",
    ]
    if info.get("smp_url"):
        lines.append(f"smp_url = {_toml_str(info['smp_url'])}")
    lines += [f"certificate = {_toml_str(cert_file)}", f"participants = [{participants}]", ""]
    lines += ["[peers.agreement]"]
    if args.id:
        lines.append(f"id = {_toml_str(args.id)}")
    lines.append(f"direction = {_toml_str(args.direction)}")
    lines.append(f"document_types = [{', '.join(_toml_str(d) for d in args.document_type)}]")
    for key in ("valid_from", "valid_until"):
        value = getattr(args, key)
        if value:
            lines.append(f"{key} = {value.isoformat()}")
    if args.max_document_bytes:
        lines.append(f"max_document_bytes = {args.max_document_bytes}")
    lines.append(f"require_document_signature = {str(args.require_document_signature).lower()}")
    if args.delivery_deadline_hours:
        lines.append(f"delivery_deadline_hours = {args.delivery_deadline_hours}")
    lines += [
        "",
        "[peers.agreement.fees]",
        f"per_document = {_toml_str(args.fee)}",
        f"payer = {_toml_str(args.payer)}",
        f"monthly_free = {args.monthly_free}",
        f"monthly_cap = {_toml_str(args.monthly_cap)}",
        f"currency = {_toml_str(args.currency)}",
    ]
    return "\n".join(lines) + "\n"


def cmd_agreements_add(args: argparse.Namespace) -> int:
    settings = common.load(args)  # the file must be valid before we touch it
    info = _peer_info(args.peer_info)
    name = str(info["name"])
    if settings.peer_named(name) is not None:
        raise ConfigError(str(settings.path), "peers", f"an agreement with {name!r} exists already")
    peers_dir = settings.path.parent / "peers"
    made_dir = not peers_dir.exists()
    peers_dir.mkdir(exist_ok=True)
    cert = peers_dir / f"{name}.pem"
    original = settings.path.read_text(encoding="utf-8")
    old_cert = cert.read_bytes() if cert.exists() else None
    cert.write_text(str(info["certificate_pem"]), encoding="ascii")
    settings.path.write_text(original + stanza(info, args, f"peers/{name}.pem"), encoding="utf-8")
    try:
        new = config_mod.load(settings.path)
    except ConfigError:
        # Leave the file exactly as it was: never a half-written configuration.
        settings.path.write_text(original, encoding="utf-8")
        if old_cert is None:
            cert.unlink()
        else:
            cert.write_bytes(old_cert)
        if made_dir:
            peers_dir.rmdir()
        raise
    agreement = new.peer_named(name)
    assert agreement is not None
    print(f"added agreement {agreement.agreement.id} with {name} to {new.path}")
    print("apply it with SIGHUP or POST /admin/reload, or restart the gateway")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "agreements",
        "interconnection agreements with peer networks",
        [
            "gateway agreements check --config var/alpha/gateway.toml",
            "gateway agreements add --config var/alpha/gateway.toml --peer-info beta.json "
            "--fee 0.05",
        ],
    )
    asub = p.add_subparsers(dest="agreements_command", required=True, metavar="ACTION")
    c = common.command(
        asub,
        "check",
        "check the config and summarise what each agreement allows",
        ["gateway agreements check --config var/alpha/gateway.toml --json"],
        notes=common.CONFIG_RULE,
    )
    common.add_config(c)
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_agreements_check)

    a = common.command(
        asub,
        "add",
        "add an agreement with a peer from its `gateway info --json`",
        [
            "gateway info --config var/beta/gateway.toml --json > beta.json",
            "gateway agreements add --config var/alpha/gateway.toml --peer-info beta.json \\\n"
            "      --fee 0.05 --monthly-free 100 --valid-until 2027-12-31",
        ],
        notes=f"{common.CONFIG_RULE}\n"
        "Appends a [[peers]] stanza to the file and the peer's certificate to peers/NAME.pem;\n"
        "a file that would not load afterwards is left exactly as it was.",
    )
    common.add_config(a)
    a.add_argument(
        "--peer-info",
        required=True,
        metavar="INFO.json",
        help="what the peer's `gateway info --json` printed",
    )
    a.add_argument("--id", help="agreement id (default: <our name>-<peer name>)")
    a.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="both",
        help="which way documents may flow, seen from this network (default both)",
    )
    a.add_argument(
        "--document-type",
        action="append",
        default=[],
        metavar="ID",
        help="document type id covered (repeatable; default: all)",
    )
    a.add_argument(
        "--valid-from",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="first day it applies (default: already)",
    )
    a.add_argument(
        "--valid-until",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="last day it applies (default: open-ended)",
    )
    a.add_argument(
        "--max-document-bytes",
        type=int,
        default=0,
        metavar="N",
        help="largest document it carries (default 0: the network's own limit)",
    )
    a.add_argument(
        "--require-document-signature",
        action="store_true",
        help="refuse documents that carry no XML signature",
    )
    a.add_argument(
        "--delivery-deadline-hours",
        type=float,
        default=0,
        metavar="H",
        help="stop retrying a delivery to this peer after H hours "
        "(default 0: delivery.give_up_after_seconds)",
    )
    a.add_argument("--fee", default="0", help="fee per document, e.g. 0.05 (default 0)")
    a.add_argument(
        "--payer", choices=PAYERS, default="sender", help="which network pays each document's fee"
    )
    a.add_argument(
        "--monthly-free",
        type=int,
        default=0,
        metavar="N",
        help="documents a month free of fees, each way (default 0)",
    )
    a.add_argument(
        "--monthly-cap",
        default="0",
        metavar="AMOUNT",
        help="most fees due in a month, each way (default 0: no cap)",
    )
    a.add_argument("--currency", default="EUR", help="currency of the fees (default EUR)")
    a.set_defaults(func=cmd_agreements_add)
