"""The signed-in company's pages: its documents (filtered and paged), one
document (the invoice as HTML, its PDF and UBL, "mark as taken").

A document that is not the signed-in company's reads as unknown (404), as in
the inbox API. Opening or downloading a document the portal channel
delivered records that the company retrieved it (once); "mark as taken" is
the inbox API's acknowledgement, for any document delivered or printed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import structlog
from aiohttp import web

import gateway.portal.companies as companies
from gateway.channels.invoice_html import invoice_html
from gateway.channels.render import read_document, render_pdf
from gateway.model import Cursor, DocumentMeta, Listed, ListingQuery, State, StatusEvent
from gateway.model.portal import PortalSession
from gateway.portal.context import check_csrf, language, portal_of, render, require_session
from gateway.validation.parse import parse_xml

log = structlog.get_logger("gateway.portal")

_SCAN_PAGES = 20  # pages read at most to fill one page filtered by sender
ACKNOWLEDGEABLE = frozenset({State.DELIVERED, State.PRINTED})
OPENED = "the recipient opened it in the portal"
TAKEN = "the recipient marked it as taken in the portal"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PageNotFound(Exception):
    """Answered with the portal's 404 page."""


async def _company_name(request: web.Request, session: PortalSession) -> str:
    p = portal_of(request)
    found = await companies.company(p.settings(), p.store, session.participant)
    return found.name if found is not None else session.participant


def _filters(request: web.Request) -> tuple[ListingQuery, str, dict[str, str], list[str]]:
    q = request.query
    problems = []
    state = None
    if q.get("state"):
        try:
            state = State(q["state"])
        except ValueError:
            problems.append("state")
    since = None
    if q.get("since"):
        try:
            since = datetime.combine(date.fromisoformat(q["since"]), datetime.min.time(), UTC)
        except ValueError:
            problems.append("since")
    cursor = None
    if q.get("cursor"):
        try:
            cursor = Cursor.decode(q["cursor"])
        except ValueError:
            problems.append("cursor")
    sender = q.get("sender", "").strip()[:200]
    shown = {"state": q.get("state", ""), "since": q.get("since", ""), "sender": sender}
    return (
        ListingQuery(state=state, since=since, cursor=cursor, limit=portal_of(request).page_size),
        sender,
        shown,
        problems,
    )


def _matches(meta: DocumentMeta, sender: str) -> bool:
    wanted = sender.lower()
    return wanted in meta.seller_name.lower() or wanted in meta.sender.lower()


def _cursor_of(meta: DocumentMeta) -> str:
    micros = (meta.received_at - _EPOCH) // _MICRO
    return Cursor(micros, meta.id).encode()


_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH


async def _page(
    request: web.Request, participant: str, query: ListingQuery, sender: str
) -> tuple[list[Listed], str | None]:
    store = portal_of(request).store
    if not sender:
        page = await store.list_for_recipients([participant], query)
        return page.documents, page.next_cursor
    rows: list[Listed] = []
    for _ in range(_SCAN_PAGES):
        page = await store.list_for_recipients([participant], query)
        for entry in page.documents:
            if _matches(entry.meta, sender):
                rows.append(entry)
                if len(rows) == query.limit:
                    return rows, _cursor_of(entry.meta)
        if page.next_cursor is None:
            return rows, None
        query = ListingQuery(query.state, query.since, Cursor.decode(page.next_cursor), query.limit)
    return rows, query.cursor.encode() if query.cursor else None


async def inbox(request: web.Request) -> web.Response:
    session = await require_session(request)
    query, sender, shown, problems = _filters(request)
    if problems:
        rows: list[Listed] = []
        next_cursor = None
    else:
        rows, next_cursor = await _page(request, session.participant, query, sender)
    next_link = None
    if next_cursor:
        params = {k: v for k, v in shown.items() if v}
        params["cursor"] = next_cursor
        next_link = str(request.rel_url.with_query(params))
    return render(
        request,
        "inbox.html",
        {
            "rows": [row(entry) for entry in rows],
            "filters": shown,
            "problems": problems,
            "states": [s.value for s in State],
            "next_link": next_link,
        },
        session=session,
        company=await _company_name(request, session),
        status=422 if problems else 200,
    )


async def _readable(request: web.Request) -> tuple[PortalSession, DocumentMeta]:
    session = await require_session(request)
    meta = await portal_of(request).store.get_meta(request.match_info["id"])
    if meta is None or meta.recipient != session.participant:
        raise PageNotFound()
    return session, meta


def _through_portal(history: list[StatusEvent]) -> bool:
    delivered = [e for e in history if e.state is State.DELIVERED]
    return bool(delivered) and delivered[-1].details.get("channel") == "portal"


async def _retrieve(request: web.Request, meta: DocumentMeta, reason: str, *, always: bool) -> None:
    """Record ``retrieved`` once: at once if ``always`` (mark as taken), else
    only for a document the portal channel delivered."""
    store = portal_of(request).store
    history = await store.history(meta.id)
    if any(e.state is State.RETRIEVED for e in history):
        return
    if not always and not _through_portal(history):
        return
    event = StatusEvent(State.RETRIEVED, portal_of(request).clock(), reason)
    state = await store.append_if_current(meta.id, event, ACKNOWLEDGEABLE)
    if state in ACKNOWLEDGEABLE:
        log.info("portal.retrieved", document=meta.id)


async def document(request: web.Request) -> web.Response:
    session, meta = await _readable(request)
    p = portal_of(request)
    await _retrieve(request, meta, OPENED, always=False)
    payload = await p.store.get_payload(meta.id) or b""
    limits = p.settings().limits
    html = await asyncio.to_thread(invoice_html, payload, limits, language(request))
    history = await p.store.history(meta.id)
    state = history[-1].state.value if history else State.RECEIVED.value
    return render(
        request,
        "document.html",
        {"meta": meta, "invoice": html, "state": state, "history": history},
        session=session,
        company=await _company_name(request, session),
    )


def _filename(meta: DocumentMeta) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in meta.business_id)
    return name[:80] or meta.id


async def ubl(request: web.Request) -> web.Response:
    _, meta = await _readable(request)
    payload = await portal_of(request).store.get_payload(meta.id)
    if payload is None:
        raise PageNotFound()
    await _retrieve(request, meta, OPENED, always=False)
    headers = {"Content-Disposition": f'attachment; filename="{_filename(meta)}.xml"'}
    return web.Response(body=payload, content_type="application/xml", headers=headers)


async def pdf(request: web.Request) -> web.Response:
    _, meta = await _readable(request)
    p = portal_of(request)
    payload = await p.store.get_payload(meta.id)
    if payload is None:
        raise PageNotFound()
    limits = p.settings().limits
    rendered = await asyncio.to_thread(
        lambda: render_pdf(read_document(parse_xml(payload, limits)), created=meta.received_at)
    )
    await _retrieve(request, meta, OPENED, always=False)
    headers = {"Content-Disposition": f'attachment; filename="{_filename(meta)}.pdf"'}
    return web.Response(body=rendered.data, content_type="application/pdf", headers=headers)


async def ack(request: web.Request) -> web.Response:
    _, meta = await _readable(request)
    check_csrf(request, await request.post())
    await _retrieve(request, meta, TAKEN, always=True)
    return web.Response(status=303, headers={"Location": f"/portal/documents/{meta.id}"})


def row(entry: Listed) -> dict[str, Any]:
    meta = entry.meta
    return {
        "id": meta.id,
        "sender": meta.seller_name or meta.sender,
        "number": meta.business_id,
        "date": meta.issue_date or meta.received_at.date().isoformat(),
        "amount": f"{meta.payable_amount} {meta.currency}".strip(),
        "state": entry.state.value,
    }
