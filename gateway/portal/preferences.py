"""The company's reception preferences: its waterfall (up to three modes),
its e-mail address and its postal address, and its details (name, id).

A change applies to the next delivery. It is kept as the company's portal
choice (PortalStore: in force from now, and one more entry in its history),
which outranks the configuration file for one of our participants (see
directory.lookup and service.recipients); for a partner of the directory,
its directory record is rewritten too (PartnerStore.put_partners), which is
what routing reads for it.
"""

from __future__ import annotations

from dataclasses import replace

import structlog
from aiohttp import web

import gateway.portal.companies as companies
from gateway.config.email import address_problem
from gateway.model import RECEPTIONS, reception_modes
from gateway.model.identifiers import check
from gateway.model.portal import PortalChoice
from gateway.portal.context import check_csrf, portal_of, render, require_session

log = structlog.get_logger("gateway.portal")

MAX_ADDRESS_LINES = 6
MAX_LINE = 100


async def _page(
    request: web.Request,
    *,
    saved: bool = False,
    problems: list[str] | None = None,
    shown: companies.Company | None = None,
    status: int = 200,
) -> web.Response:
    session = await require_session(request)
    p = portal_of(request)
    found = await companies.company(p.settings(), p.store, session.participant)
    if found is None:
        raise web.HTTPSeeOther(location="/portal/sign-in")
    history = await p.store.portal_choices(session.participant, limit=10)
    return render(
        request,
        "preferences.html",
        {
            "company": found,
            "form": shown or found,
            "modes": RECEPTIONS,
            "saved": saved,
            "problems": problems or [],
            "history": history,
            "id_problem": check(found.id),
        },
        session=session,
        company=found.name,
        status=status,
    )


async def preferences(request: web.Request) -> web.Response:
    return await _page(request, saved=request.query.get("saved") == "1")


async def save(request: web.Request) -> web.Response:
    session = await require_session(request)
    form = await request.post()
    check_csrf(request, form)
    p = portal_of(request)
    settings = p.settings()
    found = await companies.company(settings, p.store, session.participant)
    if found is None:
        raise web.HTTPSeeOther(location="/portal/sign-in")
    problems = []
    picked = [str(form.get(f"mode{i}", "")).strip() for i in (1, 2, 3)]
    modes: tuple[str, ...] = ()
    try:
        modes = reception_modes([m for m in picked if m])
    except ValueError:
        problems.append("reception")
    email = str(form.get("email", "")).strip()
    if email and (len(email) > 254 or address_problem(email)):
        problems.append("email")
    lines = [line.strip() for line in str(form.get("address", "")).splitlines() if line.strip()]
    if len(lines) > MAX_ADDRESS_LINES or any(len(line) > MAX_LINE for line in lines):
        problems.append("address")
    if "email" in modes and not email:
        problems.append("email_needed")
    if "paper" in modes and not lines:
        problems.append("address_needed")
    if problems:
        shown = replace(found, email=email, address=tuple(lines), reception=tuple(picked))
        return await _page(request, problems=problems, shown=shown, status=422)
    choice = PortalChoice(session.participant, modes, email, tuple(lines), p.clock())
    if found.source == "directory":
        partner = await p.store.get_partner(found.id)
        if partner is not None:
            await p.store.put_partners(
                [
                    replace(
                        partner,
                        reception=";".join(modes),
                        email=email,
                        address=tuple(lines),
                        address_suspect=""
                        if tuple(lines) != partner.address
                        else partner.address_suspect,
                    )
                ]
            )
    await p.store.put_portal_choice(choice)
    log.info("portal.preferences_changed", participant=session.participant, reception=list(modes))
    return web.Response(status=303, headers={"Location": "/portal/preferences?saved=1"})
