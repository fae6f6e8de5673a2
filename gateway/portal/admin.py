"""The portal's admin view under ``/portal/admin/``: documents by state, the
outbox, the dead letters (with a "send again" button), the print batches,
and the month's traffic with each peer network (docs/portal.md, "Admin view").

An admin signs in by pasting the admin token (admin.token beside the
configuration). That starts a session in the portal's session store like a
company's, but for ``ADMIN``, which is no participant id (it has no ":"), so
no sign-in link can ever make one, and a company's session is never an
admin's. The same cookie, CSRF tokens, words and headers as the portal.

Read-mostly: the one action, sending a dead letter again, is
gateway.service.requeue (a ``requeued`` event and a new job, at once), and
every sign-in, sign-out and action is logged, without the token.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import structlog
from aiohttp import web

import gateway.portal.admin_data as admin_data
from gateway.model import State
from gateway.model.portal import PortalSession
from gateway.portal.admin_data import AdminData
from gateway.portal.admin_words import WORDS
from gateway.portal.context import (
    SESSION_COOKIE,
    check_csrf,
    current_session,
    hash_session,
    language,
    portal_of,
    render,
    set_cookie,
)
from gateway.service.requeue import RETRYABLE, requeue

log = structlog.get_logger("gateway.portal.admin")

ADMIN = "admin"  # the session's "participant": never a participant id
ADMIN_LIFETIME = timedelta(hours=2)
SIGN_IN = "/portal/admin/sign-in"
HOME = "/portal/admin/"
DEAD_LETTERS = "/portal/admin/dead-letters"
PAGE_SIZE = 50
FAILURES_PER_MINUTE = 5  # wrong tokens per client address
MAX_TOKEN = 512
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_RESULTS = ("requeued", "unknown", *(s.value for s in State))

STORE: web.AppKey[AdminData] = web.AppKey("admin_store", AdminData)


def store_of(request: web.Request) -> AdminData:
    return request.app[STORE]


async def require_admin(request: web.Request) -> PortalSession:
    """The admin's session; any other visitor goes to the admin sign-in."""
    session = await current_session(request)
    if session is None or session.participant != ADMIN:
        raise web.HTTPSeeOther(location=SIGN_IN)
    return session


def page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    values = {"a": WORDS[language(request)], "signed_in": template != "admin/sign_in.html"}
    values.update(context)
    return render(request, template, values, status=status)


async def sign_in_page(request: web.Request) -> web.Response:
    session = await current_session(request)
    if session is not None and session.participant == ADMIN:
        raise web.HTTPSeeOther(location=HOME)
    return page(request, "admin/sign_in.html", {})


async def sign_in(request: web.Request) -> web.Response:
    form = await request.post()
    check_csrf(request, form)
    p = portal_of(request)
    keys = [f"admin:{request.remote or 'unknown'}"]
    now = p.monotonic()
    wait = p.limiter.retry_after(keys, now=now, limit=FAILURES_PER_MINUTE)
    if wait:
        response = page(request, "admin/sign_in.html", {"wait": wait}, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    token = str(form.get("token", "")).strip()
    if not token or len(token) > MAX_TOKEN or not p.settings().is_admin_token(token):
        p.limiter.record(keys, now=now, limit=FAILURES_PER_MINUTE)
        log.info("portal.admin_sign_in_refused", client=request.remote)
        return page(request, "admin/sign_in.html", {"wrong": True}, status=401)
    old = request.cookies.get(SESSION_COOKIE, "")
    if old:  # a company's session in this browser ends: one session per cookie
        await p.store.delete_portal_session(hash_session(old))
    raw = secrets.token_urlsafe(32)
    at = p.clock()
    session = PortalSession(hash_session(raw), ADMIN, at, at + ADMIN_LIFETIME)
    await p.store.put_portal_session(session)
    log.info("portal.admin_signed_in", client=request.remote)
    response = web.Response(status=303, headers={"Location": HOME})
    set_cookie(response, request, SESSION_COOKIE, raw)
    return response


async def sign_out(request: web.Request) -> web.Response:
    form = await request.post()
    check_csrf(request, form)
    raw = request.cookies.get(SESSION_COOKIE, "")
    if raw:
        await portal_of(request).store.delete_portal_session(hash_session(raw))
        log.info("portal.admin_signed_out")
    response = web.Response(status=303, headers={"Location": SIGN_IN})
    response.del_cookie(SESSION_COOKIE, path="/portal")
    return response


async def overview(request: web.Request) -> web.Response:
    await require_admin(request)
    store = store_of(request)
    found = await admin_data.survey(store)
    depth, due = await asyncio.gather(store.outbox_depth(), store.next_due())
    return page(
        request,
        "admin/overview.html",
        {"survey": found, "counts": found.counts(), "depth": depth, "due": due},
    )


def _page_number(request: web.Request) -> int | None:
    text = request.query.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 10_000 else None


async def documents(request: web.Request) -> web.Response:
    await require_admin(request)
    asked = request.query.get("state", "")
    number = _page_number(request)
    states = frozenset(State) if not asked else frozenset(s for s in State if s.value == asked)
    if not states or number is None:
        context: dict[str, Any] = {"rows": [], "state": asked[:40], "states": list(State)}
        context["next_link"] = None
        return page(request, "admin/documents.html", {**context, "problem": True}, status=422)
    found = await admin_data.survey(store_of(request))
    matching = found.in_states(states)
    start = (number - 1) * PAGE_SIZE
    rows = matching[start : start + PAGE_SIZE]
    next_link = None
    if len(matching) > start + PAGE_SIZE:
        query = {"page": str(number + 1), **({"state": asked} if asked else {})}
        next_link = str(request.rel_url.with_query(query))
    context = {"rows": rows, "state": asked, "states": list(State), "next_link": next_link}
    context.update(survey=found, problem=False)
    return page(request, "admin/documents.html", context)


async def dead_letters(request: web.Request) -> web.Response:
    await require_admin(request)
    found = await admin_data.survey(store_of(request))
    result = request.query.get("result", "")
    done = request.query.get("id", "")[:200]
    context = {
        "rows": found.in_states(RETRYABLE),
        "survey": found,
        "result": result if result in _RESULTS and done else "",
        "done": done,
    }
    return page(request, "admin/dead_letters.html", context)


async def retry(request: web.Request) -> web.Response:
    """Send a dead letter again, and show what happened on the dead letters page."""
    await require_admin(request)
    check_csrf(request, await request.post())
    doc_id = request.match_info["id"]
    p = portal_of(request)
    found = await requeue(store_of(request), doc_id, by="an admin (portal)", now=p.clock())
    if found is None:
        result = "unknown"
    elif found in RETRYABLE:
        result = "requeued"
    else:
        result = found.value
    log.info("portal.admin_requeue", document_id=doc_id, result=result)
    target = f"{DEAD_LETTERS}?{urlencode({'id': doc_id, 'result': result})}"
    return web.Response(status=303, headers={"Location": target})


async def batches(request: web.Request) -> web.Response:
    await require_admin(request)
    root = portal_of(request).settings().channels.print_dir
    rows = await asyncio.to_thread(admin_data.batches, root)
    return page(request, "admin/batches.html", {"rows": rows, "folder": str(root)})


def _this_month(now: datetime) -> str:
    return f"{now.year:04d}-{now.month:02d}"


async def traffic(request: web.Request) -> web.Response:
    await require_admin(request)
    p = portal_of(request)
    month = request.query.get("month", "") or _this_month(p.clock())
    if not _MONTH.fullmatch(month):
        context = {"rows": [], "month": month[:20], "problem": True}
        return page(request, "admin/traffic.html", context, status=422)
    rows = await admin_data.traffic(store_of(request), p.settings(), month)
    return page(request, "admin/traffic.html", {"rows": rows, "month": month, "problem": False})


async def _home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(location=HOME)


def install(portal_app: web.Application, store: AdminData) -> None:
    """Add the admin pages to the portal's application (mounted at /portal)."""
    portal_app[STORE] = store
    portal_app.add_routes(
        [
            web.get("/admin", _home),
            web.get("/admin/", overview),
            web.get("/admin/sign-in", sign_in_page),
            web.post("/admin/sign-in", sign_in),
            web.post("/admin/sign-out", sign_out),
            web.get("/admin/documents", documents),
            web.get("/admin/dead-letters", dead_letters),
            web.post("/admin/documents/{id}/retry", retry),
            web.get("/admin/batches", batches),
            web.get("/admin/traffic", traffic),
        ]
    )
