"""The ``gateway`` command (also ``python -m gateway``).

Exit codes: 0 success, 1 the thing checked is not OK (invalid document,
rejected submission), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.config import loader as config_mod
from gateway.config.settings import Settings
from gateway.errors import ConfigError, GatewayError, InputError
from gateway.model import InvalidIdentifier, ParticipantId, status_view

DEFAULT_CONFIG = os.environ.get("GATEWAY_CONFIG", "gateway.toml")


# `send --wait` that ends before the document reached a final state.
WAIT_TIMED_OUT = 3


def _fail(message: str, code: int = 2) -> int:
    print(f"gateway: {message}", file=sys.stderr)
    return code


def _load(path: str) -> Settings:
    return config_mod.load(path)


# --- serve / config / info / init ---------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway import log
    from gateway.server import app

    settings = _load(args.config)
    log.configure(settings.logging.format, settings.logging.level)
    for warning in settings.warnings:
        log.get("gateway.config").warning("config.warning", detail=warning)
    workers = args.workers if args.workers is not None else settings.network.workers
    app.serve_workers(settings, workers)
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    s = _load(args.file)
    print(
        f"{s.path}: OK: network {s.network.name} ({s.network.provider_id}), "
        f"{len(s.participants)} participant(s), {len(s.senders)} sender(s), "
        f"{len(s.peers)} peer network(s), store {s.store.url.split('://')[0]}"
    )
    for warning in s.warnings:
        print(f"gateway: warning: {s.path}: {warning}", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    s = _load(args.config)
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
    from gateway.cli.scaffold import init_network
    from gateway.model.identifiers import check

    try:
        pids = [ParticipantId.parse(p) for p in args.participant]
    except InvalidIdentifier as exc:
        return _fail(str(exc))
    for pid in pids:  # the same check as the partner directory's, before writing anything
        if (reason := check(pid)) is not None:
            return _fail(f"--participant {pid}: fails the check of scheme {pid.scheme}: {reason}")
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
        )
    except FileExistsError as exc:
        return _fail(str(exc))
    print(f"wrote {made.config}")
    print(f"participants: {', '.join(str(p) for p in made.participants)}")
    print(f"sender token in {made.config.parent / 'sender.token'}")
    print(f"sample invoice: {made.sample}")
    print(f"start it with: gateway serve --config {made.config}")
    return 0


# --- validate ---------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from gateway.config.settings import LimitSettings
    from gateway.validation import validate

    limits = LimitSettings()
    schema_dir = Path(args.schema_dir) if args.schema_dir else None
    official_dir = args.official_dir
    if args.config:  # the config's limits and directories, unless given here
        settings = _load(args.config)
        limits = settings.limits
        schema_dir = schema_dir or settings.validation.schema_dir
        official_dir = official_dir or settings.validation.official_rules_dir
    engine = None
    if args.engine != "native":
        from gateway.validation import official

        try:  # saxonche and both stylesheets, compiled once before the first file
            engine = official.load(official.rules_dir(official_dir))
        except official.OfficialRulesError as exc:
            return _fail(exc.message, exc.exit_code)
    all_valid = agree = True
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            return _fail(f"cannot read {name}: {exc.strerror}")
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
            verdict = "valid" if report.valid else "INVALID"
            print(f"{name}: {verdict}")
            for f in report.findings:
                print(f"  [{f.flag}] {f.id} at {f.location}: {f.message}")
            for side, ids in (disagreements or {}).items():
                if ids:
                    print(f"  DISAGREEMENT {side.replace('_', ' ')}: {' '.join(ids)}")
    return 0 if all_valid and agree else 1


# --- send / status (HTTP clients of a running gateway) --------------------------


def _endpoint(args: argparse.Namespace) -> tuple[str, str]:
    url, token = args.url, args.token
    if args.token_file:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    if (url is None or token is None) and Path(args.config).is_file():
        s = _load(args.config)
        url = url or s.network.base_url
        tf = s.path.parent / "sender.token"
        if token is None and tf.is_file():
            token = tf.read_text(encoding="utf-8").strip()
    token = token or os.environ.get("GATEWAY_TOKEN")
    if not url or not token:
        raise ConfigError(
            args.config, "", "give --url and --token (or a --config with sender.token)"
        )
    return url.rstrip("/"), token


def _http(
    method: str,
    url: str,
    token: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - http(s) from config
    req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"error": "http_error", "message": raw[:200].decode(errors="replace")}


def cmd_send(args: argparse.Namespace) -> int:
    url, token = _endpoint(args)
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    headers = {"Content-Type": "application/xml"}
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    if args.allow_duplicate:
        headers["Allow-Duplicate"] = "true"
    try:
        code, answer = _http("POST", f"{url}/api/v1/documents", token, body, headers)
    except OSError as exc:
        return _fail(f"cannot reach {url}: {exc}")
    first = answer.get("details", {}).get("document_id") if code == 409 else None
    if first:
        return _fail(
            f"not sent again: this invoice (same seller, number and issue date) is document "
            f"{first}; see it with `gateway status {first}`, or add --allow-duplicate if "
            "this is a genuine re-send"
        )
    if code not in (202, 422):
        return _fail(f"refused ({code}): {answer.get('message', answer)}")
    if args.wait and code == 202:
        answer = _wait(url, token, answer["id"], args.wait)
    print(json.dumps(answer, indent=2) if args.json else _summary(answer))
    if args.wait and code == 202 and not answer.get("final"):
        print(
            f"gateway: still {answer.get('status')} after {args.wait:g} s, not final yet; "
            f"follow it with: gateway status {answer.get('id')}",
            file=sys.stderr,
        )
        return WAIT_TIMED_OUT
    return 0 if code == 202 and answer.get("status") not in ("rejected", "failed") else 1


def _wait(url: str, token: str, doc_id: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        _code, answer = _http("GET", f"{url}/api/v1/documents/{doc_id}", token)
        if answer.get("final") or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def _summary(answer: dict[str, Any]) -> str:
    # The id alone on its line, so that a double click copies nothing else.
    lines = [str(answer.get("id")), f"  status: {answer.get('status')}"]
    for e in answer.get("history", []):
        lines.append(f"  {e['at']}  {e['state']:<15} {e.get('reason', '')}")
    for e in answer.get("errors", []):
        lines.append(f"  [{e['flag']}] {e['id']}: {e['message']}")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    args.id = args.id.rstrip(":")  # copied from an `ID: state` line of an older version
    if args.local:
        import asyncio  # only this command runs a loop: keeps `gateway validate` quick to start

        answer = asyncio.run(_local_status(_load(args.config), args.id))
        if answer is None:
            return _fail(f"no document {args.id!r} in the store", 1)
        print(json.dumps(answer, indent=2) if args.json else _summary(answer))
        return 0
    url, token = _endpoint(args)
    try:
        code, answer = _http("GET", f"{url}/api/v1/documents/{args.id}", token)
    except OSError as exc:
        return _fail(f"cannot reach {url}: {exc}")
    if code != 200:
        return _fail(f"{code}: {answer.get('message', answer)}", 1)
    print(json.dumps(answer, indent=2) if args.json else _summary(answer))
    return 0


async def _local_status(settings: Settings, doc_id: str) -> dict[str, Any] | None:
    """Read a document's history straight from the store: any direction."""
    from gateway.store.factory import make_store

    st = settings.store
    store = make_store(st.url, prefix=st.prefix, sync=st.sync)
    await store.open()
    try:
        meta = await store.get_meta(doc_id)
        if meta is None:
            return None
        history = await store.history(doc_id)
    finally:
        await store.close()
    return status_view(meta, history)


# --- argument parsing --------------------------------------------------------------


def _client_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default=DEFAULT_CONFIG, help="gateway.toml to take URL and token from"
    )
    p.add_argument("--url", help="base URL of the gateway, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", help="sender bearer token (or env GATEWAY_TOKEN)")
    p.add_argument("--token-file", help="file holding the sender token")
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")


class _Version(argparse.Action):
    """``--version``: the release and how the validation rules run (compiled or sources).

    Computed when asked, not when the parser is built: it loads the rules.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            help="print the version and whether the validation rules run compiled, then exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from importlib.metadata import PackageNotFoundError, version

        from gateway.validation.release import describe
        from gateway.validation.rules import BUILD

        try:
            release = version("einvoice-gateway")
        except PackageNotFoundError:  # run from a source tree that was never installed
            release = "(not installed)"
        print(f"gateway {release}; validation rules: {describe()}, {BUILD}")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="gateway", description="E-invoicing interoperability gateway"
    )
    top.add_argument("--version", action=_Version)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the gateway (API, exchange endpoint, worker)")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="path to gateway.toml")
    p.add_argument(
        "--workers", type=int, help="processes serving the port (default: network.workers)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("send", help="submit a UBL invoice or credit note to a running gateway")
    p.add_argument("file", help="UBL 2.1 Invoice or CreditNote XML file")
    p.add_argument("--idempotency-key", help="makes a retried send return the same id")
    p.add_argument(
        "--allow-duplicate",
        action="store_true",
        help="send an invoice already submitted (same seller, number, issue date) once more",
    )
    p.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help=f"wait for a final status (exit {WAIT_TIMED_OUT} if there is none by then)",
    )
    _client_options(p)
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("status", help="show a document's status history")
    p.add_argument("id", help="document id returned by send")
    p.add_argument(
        "--local",
        action="store_true",
        help="admin view: read the configured store directly (any document)",
    )
    _client_options(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("validate", help="validate UBL files (exit 0 all valid, 1 any invalid)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per line and file")
    p.add_argument("--schema-dir", help="your own copy of the OASIS UBL 2.1 xsd folder")
    p.add_argument(
        "--config",
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

    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    c = csub.add_parser("check", help="check a gateway.toml without starting")
    c.add_argument("file")
    c.set_defaults(func=cmd_config_check)

    p = sub.add_parser("init", help="write configuration, dev certificates and store for a network")
    p.add_argument("dir", help="directory to create")
    p.add_argument("--name", required=True, help="network name")
    p.add_argument("--port", type=int, required=True, help="TCP port to serve on")
    p.add_argument(
        "--participant",
        action="append",
        default=[],
        metavar="ID",
        help="participant id such as 0088:5790000435968 (repeatable)",
    )
    p.add_argument("--host", default="127.0.0.1", help="listen host and base URL host")
    p.add_argument("--provider-id", help="access point id (CN of the certificate)")
    p.add_argument("--ca", metavar="DIR", help="reuse the dev CA (ca.pem, ca.key) in DIR")
    p.add_argument("--store", help="store URL (default: embedded store.db)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("info", help="what peers need to know about this network")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="path to gateway.toml")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)
    from gateway.cli import admin as cli_admin

    cli_admin.register(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        return _fail(exc.message)
    except InputError as exc:
        return _fail(exc.message)
    except GatewayError as exc:
        # e.g. the store cannot be reached at start: one clear line, no traceback.
        return _fail(exc.message, 1)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
