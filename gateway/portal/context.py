"""What every portal handler shares: the store, the settings in force, the
clock, the key that signs links and CSRF tokens, the notices sender, and the
helpers for sessions, CSRF and rendering a page (with the language and the
security headers)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp_jinja2
from aiohttp import web

import gateway.portal.i18n as i18n
from gateway.channels.email_notice import PortalNotices
from gateway.config.settings import Settings
from gateway.core.ratelimit import FailureLimiter
from gateway.core.signin import keyed_hash
from gateway.model.portal import PortalSession
from gateway.store.base import DocumentListing, DocumentStore, PartnerStore, PortalStore

SESSION_COOKIE = "portal_session"
ANON_COOKIE = "portal_csrf"  # anchors the sign-in form's CSRF token before a session exists
SESSION_LIFETIME = timedelta(hours=8)

# No inline script anywhere (there is no script at all), nothing framed.
CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class PortalData(PortalStore, DocumentListing, DocumentStore, PartnerStore, Protocol):
    """What the portal reads and writes."""


@dataclass
class Portal:
    store: PortalData
    settings: Callable[[], Settings]
    clock: Callable[[], datetime]
    key: bytes
    notices: PortalNotices | None = None
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    per_address: int = 3  # sign-in links per address per minute
    per_client: int = 10  # sign-in link requests per client IP per minute
    page_size: int = 25  # documents per inbox page
    monotonic: Callable[[], float] = time.monotonic

    @property
    def secure(self) -> bool:
        return self.settings().network.base_url.lower().startswith("https://")


PORTAL: web.AppKey[Portal] = web.AppKey("portal", Portal)
_ANON: web.RequestKey[str] = web.RequestKey("portal_anon", str)
_ANON_NEW: web.RequestKey[str] = web.RequestKey("portal_anon_new", str)


def portal_of(request: web.Request) -> Portal:
    return request.app[PORTAL]


def hash_session(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def current_session(request: web.Request) -> PortalSession | None:
    raw = request.cookies.get(SESSION_COOKIE, "")
    if not raw or len(raw) > 200:
        return None
    p = portal_of(request)
    return await p.store.portal_session(hash_session(raw), now=p.clock())


async def require_session(request: web.Request) -> PortalSession:
    session = await current_session(request)
    if session is None:
        raise web.HTTPSeeOther(location="/portal/sign-in")
    return session


def language(request: web.Request) -> str:
    return i18n.choose(request.query, request.cookies, request.headers.get("Accept-Language", ""))


def _anchor(request: web.Request) -> tuple[str, str]:
    """What the CSRF token is bound to: the session, else the anonymous cookie."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    if raw:
        return "session", raw
    anon = request.get(_ANON) or request.cookies.get(ANON_COOKIE, "")
    if not anon:
        anon = secrets.token_urlsafe(24)
        request[_ANON_NEW] = anon
    request[_ANON] = anon
    return "anon", anon


def csrf_token(request: web.Request) -> str:
    kind, value = _anchor(request)
    return keyed_hash(portal_of(request).key, f"csrf:{kind}", value)


def check_csrf(request: web.Request, form: Mapping[str, Any]) -> None:
    """403 unless the form carries the token of this session (or anonymous cookie)."""
    sent = str(form.get("csrf", ""))
    kind = "session" if request.cookies.get(SESSION_COOKIE) else "anon"
    value = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANON_COOKIE, "")
    if not sent or not value:
        raise CsrfRefused()
    expected = keyed_hash(portal_of(request).key, f"csrf:{kind}", value)
    if not hmac.compare_digest(sent, expected):
        raise CsrfRefused()


class CsrfRefused(Exception):
    """A form without this session's CSRF token: answered 403."""


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/portal",
        httponly=True,
        samesite="Lax",
        secure=portal_of(request).secure,
        max_age=int(SESSION_LIFETIME.total_seconds()) if name == SESSION_COOKIE else None,
    )


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    session: PortalSession | None = None,
    company: str = "",
) -> web.Response:
    lang = language(request)
    values: dict[str, Any] = {
        "lang": lang,
        "t": i18n.WORDS[lang],
        "csrf": csrf_token(request),
        "session": session,
        "company_name": company,
        "path": request.path,
    }
    values.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    finish(request, response)
    return response


def finish(request: web.Request, response: web.StreamResponse) -> None:
    """The cookies a page sets: the language asked for, a new CSRF anchor."""
    asked = request.query.get("lang", "")
    if asked in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            asked,
            path="/portal",
            httponly=True,
            samesite="Lax",
            secure=portal_of(request).secure,
        )
    anon = request.get(_ANON_NEW)
    if anon:
        set_cookie(response, request, ANON_COOKIE, anon)
