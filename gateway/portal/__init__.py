"""The recipient portal: server-rendered pages under ``/portal/`` where a
company we deliver to signs in with a one-time link, sees its documents,
downloads them, and chooses how it receives (docs/portal.md).

No JavaScript: plain forms, each with a CSRF token; every answer carries a
Content-Security-Policy that allows no script and no framing. Templates are
autoescaped, so nothing taken from an invoice can become markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
import structlog
from aiohttp import web

from gateway.channels.email_notice import PortalNotices
from gateway.config.settings import Settings
from gateway.portal import admin, auth, pages, preferences
from gateway.portal.admin_data import AdminData
from gateway.portal.context import (
    PORTAL,
    SECURITY_HEADERS,
    CsrfRefused,
    Portal,
    render,
)

log = structlog.get_logger("gateway.portal")

HERE = Path(__file__).parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _portal_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every portal answer, error pages included, in HTML with the security headers."""
    try:
        response = await handler(request)
    except pages.PageNotFound:
        response = render(request, "error.html", {"kind": "not_found"}, status=404)
    except CsrfRefused:
        log.info("portal.csrf_refused", path=request.path)
        response = render(request, "error.html", {"kind": "forbidden"}, status=403)
    except web.HTTPException as exc:
        if exc.status == 404:
            response = render(request, "error.html", {"kind": "not_found"}, status=404)
        elif exc.status in (301, 302, 303, 307, 308):
            where = exc.headers.get("Location", "/portal/")
            response = web.Response(status=exc.status, headers={"Location": where})
        else:
            response = web.Response(status=exc.status, text=exc.reason)
    response.headers.update(SECURITY_HEADERS)
    return response


def make_portal_app(portal: Portal) -> web.Application:
    sub = web.Application(middlewares=[_portal_answers])
    sub[PORTAL] = portal
    aiohttp_jinja2.setup(
        sub,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    sub.add_routes(
        [
            web.get("/", pages.inbox),
            web.get("/sign-in", auth.sign_in_page),
            web.post("/sign-in", auth.ask_for_link),
            web.get("/sign-in/{token}", auth.open_link),
            web.post("/sign-out", auth.sign_out),
            web.get("/documents/{id}", pages.document),
            web.get("/documents/{id}/pdf", pages.pdf),
            web.get("/documents/{id}/ubl", pages.ubl),
            web.post("/documents/{id}/ack", pages.ack),
            web.get("/preferences", preferences.preferences),
            web.post("/preferences", preferences.save),
        ]
    )
    sub.router.add_static("/static", HERE / "static", append_version=False)
    return sub


def install(
    app: web.Application,
    *,
    store: AdminData,
    settings: Callable[[], Settings],
    clock: Callable[[], datetime],
    key: bytes,
    notices: PortalNotices | None = None,
) -> Portal:
    """Serve the portal under /portal/ on the gateway's application."""
    portal = Portal(store, settings, clock, key, notices)
    app[PORTAL] = portal  # the same object, for whoever holds the main application
    sub = make_portal_app(portal)
    admin.install(sub, store)  # the admin view, /portal/admin/
    app.add_subapp("/portal", sub)
    return portal
