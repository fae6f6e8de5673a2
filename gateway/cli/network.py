"""Setting a network up and running it: ``gateway init``, ``serve``,
``config check``, ``info`` and ``certs``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from gateway.cli import common
from gateway.errors import InputError
from gateway.model import InvalidIdentifier, ParticipantId


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway import log
    from gateway.server import app

    settings = common.load(args)
    log.configure(settings.logging.format, settings.logging.level)
    for warning in settings.warnings:
        log.get("gateway.config").warning("config.warning", detail=warning)
    workers = args.workers if args.workers is not None else settings.network.workers
    app.serve_workers(settings, workers)
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    if args.file and args.config and args.file != args.config:
        return common.fail(f"two files given: {args.file} and --config {args.config}")
    args.config = args.file or args.config
    s = common.load(args)
    print(
        f"{s.path}: OK: network {s.network.name} ({s.network.provider_id}), "
        f"{len(s.participants)} participant(s), {len(s.senders)} sender(s), "
        f"{len(s.peers)} peer network(s), store {s.store.url.split('://')[0]}"
    )
    for warning in s.warnings:
        print(f"gateway: warning: {s.path}: {warning}", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    s = common.load(args)
    info = {
        "name": s.network.name,
        "provider_id": s.network.provider_id,
        "base_url": s.network.base_url,
        "as4_endpoint": s.network.exchange_url,
        "certificate": str(s.network.certificate),
        "certificate_pem": s.network.certificate.read_text(encoding="ascii"),
        "participants": [str(p.id) for p in s.participants],
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key in ("name", "provider_id", "base_url", "as4_endpoint", "certificate"):
            print(f"{key}: {info[key]}")
        print("participants: " + ", ".join(info["participants"]))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from gateway.cli.scaffold import ADMIN_TOKEN_FILE, TOKEN_FILE, init_network
    from gateway.model.identifiers import check

    try:
        pids = [ParticipantId.parse(p) for p in args.participant]
    except InvalidIdentifier as exc:
        return common.fail(str(exc))
    for pid in pids:  # the same check as the partner directory's, before writing anything
        if (reason := check(pid)) is not None:
            return common.fail(
                f"--participant {pid}: fails the check of scheme {pid.scheme}: {reason}"
            )
    try:
        made = init_network(
            Path(args.dir),
            name=args.name,
            port=args.port,
            participants=pids,
            now=datetime.now(UTC),
            host=args.host,
            provider_id=args.provider_id,
            ca_dir=Path(args.ca) if args.ca else None,
            store=args.store,
            public_url=args.public_url,
        )
    except FileExistsError as exc:
        return common.fail(str(exc))
    folder = made.config.parent
    print(f"wrote {made.config}")
    print(f"participants: {', '.join(str(p) for p in made.participants)}")
    print(f"sender token in {folder / TOKEN_FILE} (gateway send reads it from there)")
    print(f"admin token in {folder / ADMIN_TOKEN_FILE} (for POST /admin/reload)")
    print(f"sample invoice: {made.sample}")
    print(f"start it with: gateway serve --config {made.config}")
    return 0


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "init",
        "write configuration, dev certificates, tokens and a sample invoice for a network",
        [
            "gateway init var/alpha --name alpha --port 8081",
            "gateway init var/beta --name beta --port 8082 --ca var/alpha/certs \\\n"
            "      --participant 0088:5790000000029",
            "gateway init net --name alpha --host 0.0.0.0 --port 8080 \\\n"
            "      --public-url https://ap.alpha.example",
        ],
        notes="Writes DIR/gateway.toml, DIR/certs/ (DEVELOPMENT certificates), DIR/sender.token,\n"
        "DIR/admin.token (both readable by you only) and DIR/sample-invoice.xml.",
    )
    p.add_argument("dir", help="directory to create")
    p.add_argument("--name", required=True, help="network name")
    p.add_argument("--port", type=int, required=True, help="TCP port to serve on")
    p.add_argument(
        "--participant",
        action="append",
        default=[],
        metavar="ID",
        help="participant id such as 0088:5790000435968 (repeatable; default: two made-up GLNs)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on, network.listen_host (default 127.0.0.1; 0.0.0.0 in a "
        "container, which then needs --public-url)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL peers and senders use, network.base_url, e.g. https://ap.example.com "
        "(default: http://HOST:PORT)",
    )
    p.add_argument(
        "--provider-id", help="access point id, the CN of its certificate (default: from --name)"
    )
    p.add_argument("--ca", metavar="DIR", help="reuse the dev CA (ca.pem, ca.key) in DIR")
    p.add_argument(
        "--store",
        metavar="URL",
        help="store URL, e.g. redis://127.0.0.1:6379/0 (default: the embedded store.db)",
    )
    p.set_defaults(func=cmd_init)

    p = common.command(
        sub,
        "serve",
        "run the gateway (API, exchange endpoint, worker)",
        ["gateway serve --config var/alpha/gateway.toml", "gateway serve --workers 2"],
        notes=f"{common.CONFIG_RULE}\nThe port is network.listen_port of the configuration.",
    )
    common.add_config(p)
    p.add_argument(
        "--workers", type=int, help="processes serving the port (default: network.workers)"
    )
    p.set_defaults(func=cmd_serve)

    p = common.command(
        sub,
        "config",
        "configuration tools",
        ["gateway config check var/alpha/gateway.toml", "gateway config check --config FILE"],
    )
    csub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    c = common.command(
        csub,
        "check",
        "check a gateway.toml without starting",
        ["gateway config check var/alpha/gateway.toml", "GATEWAY_CONFIG=FILE gateway config check"],
        notes=f"{common.CONFIG_RULE} (FILE, if given, is the same as --config FILE)",
    )
    c.add_argument("file", nargs="?", metavar="FILE", help="the gateway.toml to check")
    common.add_config(c)
    c.set_defaults(func=cmd_config_check)

    p = common.command(
        sub,
        "info",
        "what peers need to know about this network",
        ["gateway info --config var/beta/gateway.toml --json > beta.json"],
        notes=common.CONFIG_RULE,
    )
    common.add_config(p)
    p.add_argument("--json", action="store_true", help="print JSON (what `agreements add` reads)")
    p.set_defaults(func=cmd_info)

    ce = common.command(
        sub,
        "certs",
        "DEVELOPMENT certificates: a dev CA and access point certificates",
        [
            "gateway certs var/pki --ap-id PALPHA",
            "gateway certs var/pki-beta --ap-id PBETA --ca var/pki --days 30",
        ],
        notes="Never for production: see certs/README.md.",
    )
    ce.add_argument("dir", help="directory to write ca.pem, ca.key, ap.key, ap.pem into")
    ce.add_argument("--ap-id", required=True, help="access point id, the certificate's CN")
    ce.add_argument("--ca", metavar="DIR", help="issue from the dev CA in DIR (default: a new CA)")
    ce.add_argument(
        "--days",
        type=int,
        default=365,
        metavar="N",
        help="days the access point certificate is valid, from now (default 365)",
    )
    ce.set_defaults(func=cmd_certs)
