"""The recipients' inbox and the senders' listing, over HTTP.

A recipient account (``gateway recipients add``) reads the documents
addressed to its participants: a page of them, one with its history, its
UBL as stored, a PDF rendering, and an acknowledgement that it took the
document (``retrieved``), which the sender then sees in its status view. A
sender lists the documents it submitted. An id alone grants nothing: a
document that is not the caller's reads as unknown (404).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from gateway.channels.invoice_record import record_of
from gateway.channels.render import read_document, render_pdf
from gateway.config.settings import hash_token
from gateway.errors import InputError, NotFound, StateConflict
from gateway.model import (
    LISTING_MAX,
    Cursor,
    DocumentMeta,
    Listed,
    ListingQuery,
    RecipientAccount,
    State,
    StatusEvent,
)
from gateway.server import api, edge
from gateway.store.base import AccountStore, DocumentListing, DocumentStore
from gateway.validation.parse import parse_xml

log = structlog.get_logger("gateway.inbox")

# A recipient may acknowledge a document once it reached its inbox (or was printed).
ACKNOWLEDGEABLE = frozenset({State.DELIVERED, State.PRINTED})
RETRIEVED = "the recipient retrieved it through the inbox API"


class NotAcknowledgeable(StateConflict):
    """Only a delivered or printed document can be acknowledged."""


class InboxStore(AccountStore, DocumentListing, DocumentStore):
    """What the inbox reads and writes."""


def _store(request: web.Request) -> InboxStore:
    store: InboxStore = request.app[api.STORE]
    return store


async def _recipient(request: web.Request) -> RecipientAccount:
    store = _store(request)

    async def lookup(token: str) -> RecipientAccount | None:
        return await store.recipient_account_for_token_hash(hash_token(token))

    account = await request.app[edge.GUARD].authenticate_async(
        request, lookup, "unknown or revoked recipient token"
    )
    structlog.contextvars.bind_contextvars(recipient=account.name)
    return account


# --- query parameters --------------------------------------------------------------


def listing_query(params: Mapping[str, str]) -> ListingQuery:
    """The page asked for; InputError naming the parameter that is wrong."""
    state = None
    if params.get("state"):
        try:
            state = State(params["state"])
        except ValueError:
            known = ", ".join(s.value for s in State)
            raise InputError(f"state {params['state']!r} is not one of: {known}") from None
    since = None
    if params.get("since"):
        try:
            since = datetime.fromisoformat(params["since"])
        except ValueError:
            since = None
        if since is None or since.tzinfo is None:
            raise InputError(
                f"since {params['since']!r} must be an ISO 8601 time with a zone,"
                " e.g. 2026-01-31T00:00:00Z"
            )
    cursor = None
    if params.get("cursor"):
        try:
            cursor = Cursor.decode(params["cursor"])
        except ValueError as exc:
            raise InputError(str(exc)) from None
    limit = ListingQuery().limit
    if params.get("limit"):
        text = params["limit"]
        if not text.isdigit() or not 1 <= int(text) <= LISTING_MAX:
            raise InputError(f"limit {text!r} must be a whole number from 1 to {LISTING_MAX}")
        limit = int(text)
    return ListingQuery(state=state, since=since, cursor=cursor, limit=limit)


# --- answers -------------------------------------------------------------------------


def item(meta: DocumentMeta, state: State) -> dict[str, Any]:
    """A document as a listing shows it."""
    return {
        "id": meta.id,
        "state": state.value,
        "sender": meta.sender,
        "seller_name": meta.seller_name,
        "recipient": meta.recipient,
        "business_id": meta.business_id,
        "kind": meta.kind.value,
        "document_type": meta.document_type,
        "issue_date": meta.issue_date or None,
        "due_date": meta.due_date or None,
        "currency": meta.currency or None,
        "payable_amount": meta.payable_amount or None,
        "received_at": meta.received_at.isoformat(),
    }


def _page(listed: list[Listed], next_cursor: str | None) -> web.Response:
    documents = [item(entry.meta, entry.state) for entry in listed]
    return web.json_response({"documents": documents, "next_cursor": next_cursor})


def _current(history: list[StatusEvent]) -> State:
    return history[-1].state if history else State.RECEIVED


# --- handlers ------------------------------------------------------------------------


async def inbox(request: web.Request) -> web.Response:
    account = await _recipient(request)
    query = listing_query(request.query)
    page = await _store(request).list_for_recipients(account.participants, query)
    return _page(page.documents, page.next_cursor)


async def _readable(request: web.Request) -> tuple[DocumentMeta, InboxStore]:
    account = await _recipient(request)
    doc_id = request.match_info["id"]
    store = _store(request)
    meta = await store.get_meta(doc_id)
    if meta is None or meta.recipient not in account.participants:
        raise NotFound(f"no document {doc_id!r} in this inbox")
    return meta, store


async def inbox_document(request: web.Request) -> web.Response:
    meta, store = await _readable(request)
    history = await store.history(meta.id)
    body = item(meta, _current(history))
    body["history"] = [event.to_json() for event in history]
    payload = await store.get_payload(meta.id)
    if payload is not None:  # the accounting export's record (docs/export.md)
        limits = request.app[api.PIPELINE].settings.limits
        record = await asyncio.to_thread(
            record_of, payload, limits, document_id=meta.id, received_at=meta.received_at
        )
        body["record"] = record.to_json()
    return web.json_response(body)


async def inbox_ubl(request: web.Request) -> web.Response:
    meta, store = await _readable(request)
    payload = await store.get_payload(meta.id)
    if payload is None:  # a document is stored with its payload; never expected
        raise NotFound(f"no payload for document {meta.id!r}")
    return web.Response(body=payload, content_type="application/xml")


async def inbox_pdf(request: web.Request) -> web.Response:
    meta, store = await _readable(request)
    payload = await store.get_payload(meta.id)
    if payload is None:
        raise NotFound(f"no payload for document {meta.id!r}")
    limits = request.app[api.PIPELINE].settings.limits
    # Dated as received, so the same document always renders the same.
    pdf = await asyncio.to_thread(
        lambda: render_pdf(read_document(parse_xml(payload, limits)), created=meta.received_at)
    )
    headers = {"Content-Disposition": f'inline; filename="{_filename(meta)}.pdf"'}
    return web.Response(body=pdf.data, content_type="application/pdf", headers=headers)


def _filename(meta: DocumentMeta) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in meta.business_id)
    return name[:80] or meta.id


async def inbox_ack(request: web.Request) -> web.Response:
    meta, store = await _readable(request)
    done = _retrieved(await store.history(meta.id))
    if done is None:
        event = StatusEvent(State.RETRIEVED, request.app[NOW](), RETRIEVED)
        # Checked and appended at once: of two acks at the same moment (in
        # any process), one appends and the other finds its event.
        state = await store.append_if_current(meta.id, event, ACKNOWLEDGEABLE)
        if state in ACKNOWLEDGEABLE:
            done = event
            log.info("inbox.retrieved", document=meta.id)
        else:
            done = _retrieved(await store.history(meta.id))
        if done is None:
            shown = state.value if state is not None else "unknown"
            raise NotAcknowledgeable(
                f"document {meta.id!r} is {shown}: only a delivered or printed"
                " document can be acknowledged",
                state=shown,
            )
    return web.json_response(
        {"id": meta.id, "state": State.RETRIEVED.value, "retrieved_at": done.at.isoformat()}
    )


def _retrieved(history: list[StatusEvent]) -> StatusEvent | None:
    return next((e for e in history if e.state is State.RETRIEVED), None)


async def sent(request: web.Request) -> web.Response:
    sender = api.authenticate(request)
    query = listing_query(request.query)
    page = await _store(request).list_for_origin(sender.name, query)
    return _page(page.documents, page.next_cursor)


NOW: web.AppKey[Callable[[], datetime]] = web.AppKey("inbox_clock")


def install(app: web.Application, clock: Callable[[], datetime]) -> None:
    """Add the inbox and the senders' listing to the gateway's application."""
    app[NOW] = clock
    app.add_routes(routes())


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/inbox", inbox),
        web.get("/api/v1/inbox/{id}", inbox_document),
        web.get("/api/v1/inbox/{id}/ubl", inbox_ubl),
        web.get("/api/v1/inbox/{id}/pdf", inbox_pdf),
        web.post("/api/v1/inbox/{id}/ack", inbox_ack),
        web.get("/api/v1/documents", sent),
    ]
