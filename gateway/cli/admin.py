"""Admin commands: ``gateway agreements check|add`` and ``gateway route``."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gateway.config import loader as config_mod
from gateway.config.safety import certificate_problem
from gateway.config.settings import Settings
from gateway.errors import ConfigError, InputError
from gateway.model import DIRECTIONS, PAYERS, Agreement


def register(sub: Any) -> None:
    from gateway.cli import partners as cli_partners

    cli_partners.register(sub)
    p = sub.add_parser("agreements", help="interconnection agreements with peer networks")
    asub = p.add_subparsers(dest="agreements_command", required=True, metavar="ACTION")
    c = asub.add_parser("check", help="check the config and summarise what each agreement allows")
    c.add_argument("--config", default=_default_config(), help="path to gateway.toml")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=cmd_agreements_check)

    a = asub.add_parser("add", help="add an agreement with a peer from its `gateway info --json`")
    a.add_argument("--config", default=_default_config(), help="path to gateway.toml")
    a.add_argument(
        "--peer-info",
        required=True,
        metavar="INFO.json",
        help="what the peer's `gateway info --json` printed",
    )
    a.add_argument("--id", help="agreement id (default: <our name>-<peer name>)")
    a.add_argument("--direction", choices=DIRECTIONS, default="both")
    a.add_argument(
        "--document-type",
        action="append",
        default=[],
        metavar="ID",
        help="document type id covered (repeatable; default: all)",
    )
    a.add_argument("--valid-from", type=date.fromisoformat, metavar="YYYY-MM-DD")
    a.add_argument("--valid-until", type=date.fromisoformat, metavar="YYYY-MM-DD")
    a.add_argument("--max-document-bytes", type=int, default=0)
    a.add_argument("--require-document-signature", action="store_true")
    a.add_argument("--delivery-deadline-hours", type=float, default=0)
    a.add_argument("--fee", default="0", help="fee per document, e.g. 0.05")
    a.add_argument(
        "--payer", choices=PAYERS, default="sender", help="which network pays each document's fee"
    )
    a.add_argument("--monthly-free", type=int, default=0)
    a.add_argument("--monthly-cap", default="0")
    a.add_argument("--currency", default="EUR")
    a.set_defaults(func=cmd_agreements_add)

    ce = sub.add_parser(
        "certs", help="DEVELOPMENT certificates: a dev CA and access point certificates"
    )
    ce.add_argument("dir", help="directory to write ca.pem, ca.key, ap.key, ap.pem into")
    ce.add_argument("--ap-id", required=True, help="access point id, the certificate's CN")
    ce.add_argument("--ca", metavar="DIR", help="issue from the dev CA in DIR (default: a new CA)")
    ce.add_argument("--days", type=int, default=365, help="validity of the AP certificate")
    ce.set_defaults(func=cmd_certs)

    st = sub.add_parser("settlement", help="documents exchanged with peers and the fees due")
    st.add_argument("--month", required=True, type=_month, metavar="YYYY-MM")
    st.add_argument("--config", default=_default_config(), help="path to gateway.toml")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(func=cmd_settlement)

    r = sub.add_parser("route", help="where a document would go, and why")
    r.add_argument("file", help="UBL 2.1 Invoice or CreditNote")
    r.add_argument("--config", default=_default_config(), help="path to gateway.toml")
    r.add_argument("--explain", action="store_true", help="print every reason")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.set_defaults(func=cmd_route)


def _default_config() -> str:
    import os

    return os.environ.get("GATEWAY_CONFIG", "gateway.toml")


# --- agreements check ---------------------------------------------------------------


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
    s = config_mod.load(args.config)
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
    settings = config_mod.load(args.config)  # the file must be valid before we touch it
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
        return await Locator(lambda: settings, store, smp).locate(pid, document_type)
    finally:
        await smp.close()
        await store.close()


# --- certs ---------------------------------------------------------------------------


def cmd_certs(args: argparse.Namespace) -> int:
    from gateway.pki.certificates import write_dev_pki

    if args.days <= 0:
        raise InputError("--days must be at least 1")
    pki = write_dev_pki(
        Path(args.dir),
        args.ap_id,
        now=datetime.now(UTC),
        ca_dir=Path(args.ca) if args.ca else None,
        days=args.days,
    )
    print("DEVELOPMENT certificates, never for production (see certs/README.md):")
    print(f"  CA certificate: {pki.ca_certificate}   (list it in network.ca_certificates)")
    print(f"  AP key:         {pki.key}")
    print(f"  AP certificate: {pki.certificate}   (CN={args.ap_id})")
    return 0


# --- settlement -----------------------------------------------------------------------


def _month(text: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month such as 2026-11")
    return text


async def _exchanges(settings: Settings, month: str) -> list[Any]:
    from gateway.store.factory import make_store

    st = settings.store
    store = make_store(st.url, prefix=st.prefix, sync=st.sync)
    await store.open()
    try:
        return await store.exchanges(month)
    finally:
        await store.close()


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
    settings = config_mod.load(args.config)
    import asyncio  # here, not at the top: `gateway validate` starts without it

    rows = settlement(settings, args.month, asyncio.run(_exchanges(settings, args.month)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"settlement for {args.month}, network {settings.network.name}")
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


# --- route --------------------------------------------------------------------------------


def cmd_route(args: argparse.Namespace) -> int:
    from gateway.model import Direction
    from gateway.routing.decision import RouteFacts, decide
    from gateway.service.intake import check_document

    settings = config_mod.load(args.config)
    body = Path(args.file).read_bytes()
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
                print(f"  because {reason}")
    return 0 if decision.kind.value != "refuse" else 1
