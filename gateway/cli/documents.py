"""``gateway send``, ``gateway status`` and ``gateway documents``: a
document's way in, its history, and the list of them."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cli import common
from gateway.cli.findings import grouped
from gateway.model import State, status_view

if TYPE_CHECKING:
    from gateway.store.base import DocumentStore

# `send --wait` that ends before the document reached a final state.
WAIT_TIMED_OUT = 3
LIST_PAGE = 200


def cmd_send(args: argparse.Namespace) -> int:
    url, token = common.endpoint(args)
    try:
        body = Path(args.file).read_bytes()
    except OSError as exc:
        return common.fail(f"cannot read {args.file}: {exc.strerror}")
    headers = {"Content-Type": "application/xml"}
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    if args.allow_duplicate:
        headers["Allow-Duplicate"] = "true"
    try:
        code, answer = common.http("POST", f"{url}/api/v1/documents", token, body, headers)
    except OSError as exc:
        return common.fail(f"cannot reach {url}: {exc}")
    first = answer.get("details", {}).get("document_id") if code == 409 else None
    if first:
        return common.fail(
            f"not sent again: this invoice (same seller, number and issue date) is document "
            f"{first}; see it with `gateway status {first}`, or add --allow-duplicate if "
            "this is a genuine re-send"
        )
    if code not in (202, 422):
        return common.fail(f"refused ({code}): {answer.get('message', answer)}")
    if args.wait and code == 202:
        answer = _wait(url, token, answer["id"], args.wait)
    print(json.dumps(answer, indent=2) if args.json else summary(answer))
    if args.wait and code == 202 and not answer.get("final"):
        print(
            f"gateway: still {answer.get('status')} after {args.wait:g} s, not final yet; "
            f"follow it with: gateway status {answer.get('id')}",
            file=sys.stderr,
        )
        return WAIT_TIMED_OUT
    return 0 if code == 202 and answer.get("status") not in ("rejected", "refused", "failed") else 1


def _wait(url: str, token: str, doc_id: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        _code, answer = common.http("GET", f"{url}/api/v1/documents/{doc_id}", token)
        if answer.get("final") or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def summary(answer: dict[str, Any]) -> str:
    # The id alone on its line, so that a double click copies nothing else.
    lines = [str(answer.get("id")), f"  status: {answer.get('status')}"]
    for e in answer.get("history", []):
        lines.append(f"  {e['at']}  {e['state']:<15} {e.get('reason', '')}".rstrip())
        lines += [f"      {line}" for line in grouped(e.get("details", {}).get("errors", []))]
    if answer.get("errors") and not answer.get("history"):  # a refused `send`
        lines += [f"  {line}" for line in grouped(answer["errors"])]
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    args.id = args.id.rstrip(":")  # copied from an `ID: state` line of an older version
    if args.local:
        answer = common.with_store(common.load(args), lambda store: _local(store, args.id))
        if answer is None:
            return common.fail(f"no document {args.id!r} in the store", 1)
        print(json.dumps(answer, indent=2) if args.json else summary(answer))
        return 0
    url, token = common.endpoint(args)
    try:
        code, answer = common.http("GET", f"{url}/api/v1/documents/{args.id}", token)
    except OSError as exc:
        return common.fail(f"cannot reach {url}: {exc}")
    if code != 200:
        return common.fail(f"{code}: {answer.get('message', answer)}", 1)
    print(json.dumps(answer, indent=2) if args.json else summary(answer))
    return 0


async def _local(store: DocumentStore, doc_id: str) -> dict[str, Any] | None:
    """Read a document's history straight from the store: any direction."""
    meta = await store.get_meta(doc_id)
    if meta is None:
        return None
    return status_view(meta, await store.history(doc_id))


def cmd_retry(args: argparse.Namespace) -> int:
    """Send a failed or refused document out again, straight through the store:
    the serving gateway's worker takes the new job at its next look."""
    from gateway.service.requeue import RETRYABLE, requeue

    settings = common.load(args)
    found = common.with_store(
        settings,
        lambda store: requeue(store, args.id, by="an admin (gateway retry)", now=datetime.now(UTC)),
    )
    if found is None:
        return common.fail(f"no document {args.id!r} in the store", 1)
    if found not in RETRYABLE:
        return common.fail(
            f"document {args.id} is {found.value}: only a failed or refused document can be "
            "sent out again",
            1,
        )
    print(f"{args.id}: requeued; follow it with: gateway status {args.id} --local")
    return 0


# --- documents ------------------------------------------------------------------------


def _since(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time such as 2026-11-01 or 2026-11-01T08:00"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _listing(
    store: DocumentStore, state: str | None, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The newest documents first, with their last state, filtered."""
    rows: list[dict[str, Any]] = []
    offset = 0
    while len(rows) < limit:
        page = await store.list_documents(since=since, limit=LIST_PAGE, offset=offset)
        for meta in page:
            history = await store.history(meta.id)
            last = history[-1].state.value if history else ""
            if state is None or last == state:
                rows.append({**meta.to_json(), "status": last})
        if len(page) < LIST_PAGE:
            break
        offset += LIST_PAGE
    return rows[:limit]


def cmd_documents(args: argparse.Namespace) -> int:
    if args.limit <= 0:
        return common.fail("--limit must be at least 1")
    settings = common.load(args)
    rows = common.with_store(
        settings, lambda store: _listing(store, args.state, args.since, args.limit)
    )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        print(
            f"{r['id']}  {r['received_at'][:19]}  {r['direction']:<8} {r['status']:<14} "
            f"{r['kind']:<11} {r['business_id']}  {r['sender']} -> {r['recipient']}"
        )
    print(
        f"{len(rows)} document(s)"
        + (f" (--limit {args.limit} reached)" if len(rows) == args.limit else "")
    )
    return 0


# --- parsers --------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "send",
        "submit a UBL invoice or credit note to a running gateway",
        [
            "gateway send invoice.xml --config var/alpha/gateway.toml --wait 10",
            "gateway send invoice.xml --url http://127.0.0.1:8080 --token-file sender.token",
        ],
        notes=f"{common.CONFIG_RULE}\n{common.CLIENT_RULE}\n\n"
        f"exit 0 accepted (and, with --wait, delivered or printed), 1 rejected or failed,\n"
        f"2 usage or configuration error, {WAIT_TIMED_OUT} still not final after --wait",
    )
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
    common.add_client(p)
    p.set_defaults(func=cmd_send)

    p = common.command(
        sub,
        "status",
        "show a document's status history, with each validation finding",
        [
            "gateway status 0b5c0e52-... --config var/alpha/gateway.toml",
            "gateway status 0b5c0e52-... --local --config var/beta/gateway.toml",
        ],
        notes=f"{common.CONFIG_RULE}\n{common.CLIENT_RULE}",
    )
    p.add_argument("id", help="document id returned by send")
    p.add_argument(
        "--local",
        action="store_true",
        help="admin view: read the configured store directly (any document, any direction)",
    )
    common.add_client(p)
    p.set_defaults(func=cmd_status)

    p = common.command(
        sub,
        "documents",
        "list documents in the store, newest first (admin view)",
        [
            "gateway documents --config var/alpha/gateway.toml",
            "gateway documents --state rejected --since 2026-11-01",
        ],
        notes=common.CONFIG_RULE,
    )
    p.add_argument(
        "--state",
        choices=[s.value for s in State],
        help="only documents whose last state is this one",
    )
    p.add_argument(
        "--since",
        type=_since,
        metavar="TIME",
        help="only documents received at or after TIME (ISO 8601; UTC unless it says)",
    )
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    common.add_config(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_documents)

    p = common.command(
        sub,
        "retry",
        "send a failed or refused document out again (admin), once its cause is fixed",
        ["gateway retry 0b5c0e52-... --config var/alpha/gateway.toml"],
        notes="Writes a `requeued` event and a new delivery job in the store at once, only\n"
        "for a document whose last state is failed or refused; the running gateway's\n"
        "worker delivers it afresh (attempts and reception waterfall start again).\n"
        "The same over HTTP: POST /admin/documents/{id}/retry with the admin token.\n"
        + common.CONFIG_RULE,
    )
    p.add_argument("id", help="document id, as `gateway documents --state failed` lists it")
    common.add_config(p)
    p.set_defaults(func=cmd_retry)
