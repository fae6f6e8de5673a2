"""``gateway validate``: the gateway's own checks (or the official ones) on files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gateway.cli import common
from gateway.cli.findings import grouped


def cmd_validate(args: argparse.Namespace) -> int:
    from gateway.config.settings import LimitSettings
    from gateway.validation import validate

    limits = LimitSettings()
    schema_dir = Path(args.schema_dir) if args.schema_dir else None
    official_dir = args.official_dir
    if args.config:  # the config's limits and directories, unless given here
        settings = common.load(args)
        limits = settings.limits
        schema_dir = schema_dir or settings.validation.schema_dir
        official_dir = official_dir or settings.validation.official_rules_dir
    engine = None
    if args.engine != "native":
        from gateway.validation import official

        try:  # saxonche and both stylesheets, compiled once before the first file
            engine = official.load(official.rules_dir(official_dir))
        except official.OfficialRulesError as exc:
            return common.fail(exc.message, exc.exit_code)
    all_valid = agree = True
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            return common.fail(f"cannot read {name}: {exc.strerror}")
        disagreements: dict[str, list[str]] | None = None
        if engine is None:
            report, _root, _facts = validate(data, limits, schema_dir=schema_dir)
        elif args.engine == "official":
            report = official.validate_official(data, limits, engine, schema_dir=schema_dir)
        else:  # both: the native verdict, and where the official one differs
            report, theirs = official.validate_both(data, limits, engine, schema_dir=schema_dir)
            disagreements = official.disagreements(report, theirs)
            agree &= not any(disagreements.values())
        all_valid &= report.valid
        if args.json:
            line = report.to_json(name)
            if disagreements is not None:
                line["disagreements"] = disagreements
            print(json.dumps(line), flush=True)
        else:
            print(f"{name}: {'valid' if report.valid else 'INVALID'}")
            for text in grouped(f.to_json() for f in report.findings):
                print(f"  {text}")
            for side, ids in (disagreements or {}).items():
                if ids:
                    print(f"  DISAGREEMENT {side.replace('_', ' ')}: {' '.join(ids)}")
    return 0 if all_valid and agree else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "validate",
        "validate UBL files (exit 0 all valid, 1 any invalid, 2 usage error)",
        [
            "gateway validate invoice.xml",
            "gateway validate --json *.xml",
            "gateway validate --engine both --official-dir rules/xslt invoice.xml",
        ],
        notes="No configuration is read unless --config is given: then its [limits],\n"
        "validation.schema_dir and validation.official_rules_dir apply.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="UBL 2.1 Invoice or CreditNote")
    p.add_argument("--json", action="store_true", help="one JSON object per line and file")
    p.add_argument("--schema-dir", help="your own copy of the OASIS UBL 2.1 xsd folder")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="take limits, schema_dir and official_rules_dir from this gateway.toml",
    )
    p.add_argument(
        "--engine",
        choices=("native", "official", "both"),
        default="native",
        help="rule engine: native (default), the official Schematron XSLTs (needs saxonche), "
        "or both, reporting every disagreement (exit 1 if any)",
    )
    p.add_argument(
        "--official-dir",
        metavar="DIR",
        help="folder holding CEN-EN16931-UBL.xslt and PEPPOL-EN16931-UBL.xslt "
        "(default: env GATEWAY_OFFICIAL_RULES)",
    )
    p.set_defaults(func=cmd_validate)
