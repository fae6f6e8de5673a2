"""Signing in without a password.

A company types its e-mail address; if it is the address of one of our
companies, a one-time link (gateway.core.signin: signed, 15 minutes) is
e-mailed to it. The answer page is the same whether or not the address is
known, so the form tells nobody who our companies are. Link requests are
limited per address and per client address (in this process).

Opening the link uses its nonce in the store (once, across every process)
and starts a session: a random cookie whose SHA-256 is kept in the store.
Signing out deletes it.
"""

from __future__ import annotations

import asyncio
import secrets

import structlog
from aiohttp import web

import gateway.portal.companies as companies
from gateway.config.email import address_problem
from gateway.core.signin import BadLink, read_token
from gateway.model.portal import PortalSession
from gateway.portal.context import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    Portal,
    check_csrf,
    current_session,
    hash_session,
    portal_of,
    render,
    set_cookie,
)

log = structlog.get_logger("gateway.portal")


async def sign_in_page(request: web.Request) -> web.Response:
    if await current_session(request) is not None:
        return web.Response(status=303, headers={"Location": "/portal/"})
    return render(request, "sign_in.html")


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def ask_for_link(request: web.Request) -> web.Response:
    form = await request.post()
    check_csrf(request, form)
    p = portal_of(request)
    email = str(form.get("email", "")).strip()
    if not email or len(email) > 254 or address_problem(email):
        return render(request, "sign_in.html", {"problem": True, "email": email[:254]}, status=422)
    keys = [f"email:{email.lower()}"]
    now = p.monotonic()
    wait = max(
        p.limiter.retry_after(keys, now=now, limit=p.per_address),
        p.limiter.retry_after([f"ip:{_client(request)}"], now=now, limit=p.per_client),
    )
    if wait:
        response = render(request, "sign_in.html", {"wait": wait}, status=429)
        response.headers["Retry-After"] = str(wait)
        return response
    p.limiter.record(keys, now=now, limit=p.per_address)
    p.limiter.record([f"ip:{_client(request)}"], now=now, limit=p.per_client)
    # Looked up and sent after the answer: a known address must not answer
    # later than an unknown one (the time would tell who our companies are).
    task = asyncio.create_task(_send_links(p, email))
    _SENDING.add(task)
    task.add_done_callback(_SENDING.discard)
    return render(request, "link_sent.html")


_SENDING: set[asyncio.Task[None]] = set()  # kept until done, so none is collected midway


async def _send_links(p: Portal, email: str) -> None:
    try:
        found = await companies.companies_of_email(p.settings(), p.store, email)
        if found and p.notices is not None:
            for pid in found:
                await p.notices.sign_in(email, pid, p.clock())
        elif found:
            log.warning("portal.no_relay", detail="sign-in link asked for, no [channels.email]")
        log.info("portal.link_requested", known=bool(found))
    except Exception:
        log.exception("portal.link_failed")


async def open_link(request: web.Request) -> web.Response:
    p = portal_of(request)
    now = p.clock()
    try:
        link = read_token(p.key, request.match_info["token"], now=now)
    except BadLink as exc:
        log.info("portal.link_refused", reason=str(exc))
        return render(request, "link_invalid.html", status=400)
    settings = p.settings()
    if await companies.company(settings, p.store, link.participant) is None:
        log.info("portal.link_refused", reason="not one of our companies any more")
        return render(request, "link_invalid.html", status=400)
    if not await p.store.use_link_nonce(link.nonce, expires_at=link.expires_at, now=now):
        log.info("portal.link_refused", reason="used already")
        return render(request, "link_invalid.html", status=400)
    raw = secrets.token_urlsafe(32)
    await p.store.put_portal_session(
        PortalSession(hash_session(raw), link.participant, now, now + SESSION_LIFETIME)
    )
    log.info("portal.signed_in", participant=link.participant)
    target = f"/portal/documents/{link.document}" if link.document else "/portal/"
    response = web.Response(status=303, headers={"Location": target})
    set_cookie(response, request, SESSION_COOKIE, raw)
    return response


async def sign_out(request: web.Request) -> web.Response:
    form = await request.post()
    check_csrf(request, form)
    raw = request.cookies.get(SESSION_COOKIE, "")
    if raw:
        await portal_of(request).store.delete_portal_session(hash_session(raw))
    response = web.Response(status=303, headers={"Location": "/portal/sign-in"})
    response.del_cookie(SESSION_COOKIE, path="/portal")
    return response
