"""The portal's admin view over real HTTP on loopback (aiohttp's test client
against a gateway running in process): signing in with the admin token, a
company's session kept out, a dead letter sent again from its page, counts
by state, a print batch on disk, and the month's traffic with a peer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import lxml.html

from gateway.channels.base import MemoryChannel, Outcome
from gateway.channels.print_batch import close_batch
from gateway.channels.print_folder import HANDED_OFF, write_marker
from gateway.channels.printing import PdfPrintChannel
from gateway.core.signin import new_link, sign_in_url
from gateway.model import Exchange
from gateway.service.channels import portal_key
from tests.builders import (
    BETA,
    BUYER,
    Api,
    invoice,
    peer_toml,
    serve_api,
    set_delivery,
    set_participant,
)

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@asynccontextmanager
async def _gateway(network_dir: tuple[Path, str]) -> AsyncIterator[tuple[Api, str]]:
    """A serving gateway whose buyer receives by e-mail, and its admin token."""
    cfg, token = network_dir
    set_delivery(cfg, poll_seconds=0.02)
    set_participant(cfg, BUYER, reception="email", email="ap@buyer.example")
    admin = (cfg.parent / "admin.token").read_text().strip()
    async with serve_api(cfg, token) as api:
        yield api, admin


async def _csrf(api: Api, path: str) -> str:
    page = await (await api.client.get(path)).text()
    found = _CSRF.search(page)
    assert found, page
    return found.group(1)


async def _admin(api: Api, token: str) -> None:
    """Sign in as the admin through the sign-in form."""
    csrf = await _csrf(api, "/portal/admin/sign-in")
    resp = await api.client.post(
        "/portal/admin/sign-in", data={"token": token, "csrf": csrf}, allow_redirects=False
    )
    assert resp.status == 303 and resp.headers["Location"] == "/portal/admin/", await resp.text()


async def _page(api: Api, path: str) -> lxml.html.HtmlElement:
    resp = await api.client.get(path, allow_redirects=False)
    assert resp.status == 200, (path, resp.status, resp.headers.get("Location"))
    return lxml.html.fromstring(await resp.text())


def _counts(page: lxml.html.HtmlElement) -> dict[str, int]:
    rows = page.xpath('//table[@id="states"]//tr[@data-state]')
    return {r.get("data-state"): int(r.xpath("string(td[2])")) for r in rows}


def _refusing_email(api: Api) -> MemoryChannel:
    email = MemoryChannel(
        "email", [Outcome.refused("550 no such mailbox"), Outcome.delivered("ok")]
    )
    api.gw.pipeline.delivery.channels["email"] = email
    return email


async def test_only_the_admin_token_opens_the_admin_view(network_dir: tuple[Path, str]) -> None:
    """Every admin page sends a visitor without a session to the admin sign-in; a wrong token
    is refused (401, no session cookie), the right one without its CSRF token too (403); a
    company signed in to the portal is sent to the admin sign-in as well, from pages and from
    the send-again button; the admin token opens the view with an HttpOnly cookie and signing
    out ends it. The sign-in page speaks French with ?lang=fr."""
    async with _gateway(network_dir) as (api, admin):
        for path in ("/portal/admin/", "/portal/admin/dead-letters", "/portal/admin/traffic"):
            resp = await api.client.get(path, allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"] == "/portal/admin/sign-in"
        page = await _page(api, "/portal/admin/sign-in")
        assert page.xpath('//form[@id="admin-sign-in"]//input[@name="token"]')
        french = await _page(api, "/portal/admin/sign-in?lang=fr")
        assert french.xpath("string(//h1)") == "Connexion administrateur"
        await _page(api, "/portal/admin/sign-in?lang=en")
        csrf = await _csrf(api, "/portal/admin/sign-in")
        wrong = await api.client.post(
            "/portal/admin/sign-in", data={"token": admin + "x", "csrf": csrf}
        )
        assert wrong.status == 401 and 'id="token-problem"' in await wrong.text()
        assert "portal_session" not in wrong.headers.get("Set-Cookie", "")
        no_csrf = await api.client.post("/portal/admin/sign-in", data={"token": admin})
        assert no_csrf.status == 403
        assert (await api.client.get("/portal/admin/", allow_redirects=False)).status == 303

        link = new_link(str(BUYER), "admin-test", datetime.now(UTC))
        opened = await api.client.get(
            sign_in_url("", portal_key(api.gw.settings), link), allow_redirects=False
        )
        assert opened.status == 303  # the buyer is signed in to the portal
        company_csrf = await _csrf(api, "/portal/")
        for path in ("/portal/admin/", "/portal/admin/batches"):
            resp = await api.client.get(path, allow_redirects=False)
            assert resp.headers["Location"] == "/portal/admin/sign-in", path
        retry = await api.client.post(
            "/portal/admin/documents/any/retry", data={"csrf": company_csrf}, allow_redirects=False
        )
        assert retry.status == 303 and retry.headers["Location"] == "/portal/admin/sign-in"

        csrf = await _csrf(api, "/portal/admin/sign-in")
        good = await api.client.post(
            "/portal/admin/sign-in", data={"token": admin, "csrf": csrf}, allow_redirects=False
        )
        assert good.status == 303
        assert "HttpOnly" in good.headers["Set-Cookie"]
        answer = await api.client.get("/portal/admin/")
        assert "script-src 'none'" in answer.headers["Content-Security-Policy"]
        overview = await _page(api, "/portal/admin/")
        assert overview.xpath('//table[@id="states"]') and overview.xpath('//*[@id="outbox"]')
        assert admin not in await answer.text()
        csrf = await _csrf(api, "/portal/admin/")
        assert (await api.client.post("/portal/admin/sign-out", data={})).status == 403
        out = await api.client.post(
            "/portal/admin/sign-out", data={"csrf": csrf}, allow_redirects=False
        )
        assert out.status == 303 and out.headers["Location"] == "/portal/admin/sign-in"
        again = await api.client.get("/portal/admin/", allow_redirects=False)
        assert again.headers["Location"] == "/portal/admin/sign-in"


async def test_a_dead_letter_is_sent_again_from_its_page(network_dir: tuple[Path, str]) -> None:
    """A document whose only channel refused is counted failed and listed as a dead letter
    with a send-again button; the button without its CSRF token is refused (403) and the
    document stays failed; with it, the page says it was queued again and the document is
    delivered afresh (a requeued event in its history); pressed again, the page says the
    document is delivered now; an unknown id is named as unknown."""
    async with _gateway(network_dir) as (api, admin):
        email = _refusing_email(api)
        failed = await api.send_and_wait(invoice("DEAD-1"))
        assert failed["status"] == "failed", failed["history"]
        doc_id = failed["id"]
        await _admin(api, admin)

        counts = _counts(await _page(api, "/portal/admin/"))
        assert counts["failed"] == 1 and counts["delivered"] == 0
        page = await _page(api, "/portal/admin/dead-letters")
        (row,) = page.xpath('//table[@id="dead-letters"]//tr[@data-document-id]')
        assert row.get("data-document-id") == doc_id
        assert "550 no such mailbox" in row.text_content()
        (form,) = row.xpath('.//form[@class="retry"]')
        action = form.get("action")
        assert action == f"/portal/admin/documents/{doc_id}/retry"

        refused = await api.client.post(action, data={"csrf": "forged"}, allow_redirects=False)
        assert refused.status == 403
        assert (await api.gw.store.history(doc_id))[-1].state.value == "failed"

        csrf = form.xpath('string(.//input[@name="csrf"]/@value)')
        sent = await api.client.post(action, data={"csrf": csrf})
        assert sent.status == 200 and sent.url.path == "/portal/admin/dead-letters"
        shown = lxml.html.fromstring(await sent.text())
        assert "queued again" in shown.xpath('string(//*[@id="retry-result"])')
        done = await api.wait_final(doc_id)
        states = [e["state"] for e in done["history"]]
        assert states[-4:] == ["failed", "requeued", "routed", "delivered"], states
        assert "by an admin (portal)" in done["history"][-3]["reason"]
        assert len(email.received) == 2

        again = await api.client.post(action, data={"csrf": csrf})
        assert "is delivered now" in await again.text()
        unknown = await api.client.post("/portal/admin/documents/nope/retry", data={"csrf": csrf})
        assert "There is no document nope." in await unknown.text()
        counts = _counts(await _page(api, "/portal/admin/"))
        assert counts["failed"] == 0 and counts["delivered"] == 1
        listed = await _page(api, "/portal/admin/documents?state=delivered")
        assert listed.xpath(f'//tr[@data-document-id="{doc_id}"]')
        bad = await api.client.get("/portal/admin/documents?state=lost")
        assert bad.status == 422


async def test_the_days_print_batch_is_listed(network_dir: tuple[Path, str]) -> None:
    """A document printed into today's batch, the batch closed and handed off: the batches
    page lists the day with one document, its pages, closed, and where it was handed off."""
    async with _gateway(network_dir) as (api, admin):
        root = api.gw.settings.channels.print_dir
        now = datetime.now(UTC)
        done = await PdfPrintChannel(root).deliver(str(BUYER), "doc-1", invoice(), now=now)
        batch = close_batch(root, now.date(), network="testnet", now=now)
        assert batch is not None
        write_marker(root / done.batch, HANDED_OFF, "folder /srv/print-house\n")
        await _admin(api, admin)
        page = await _page(api, "/portal/admin/batches")
        (row,) = page.xpath(f'//table[@id="batches"]//tr[@data-day="{done.batch}"]')
        cells = [c.text_content().strip() for c in row.xpath("td")]
        assert cells[1] == "1" and cells[2] == str(batch.pages)
        assert "Closed" in cells[3] and cells[4] == "folder /srv/print-house"


async def test_the_months_traffic_with_a_peer_network(network_dir: tuple[Path, str]) -> None:
    """Two documents sent to peer beta and one received from it this month, at 0.10 EUR a
    document paid by the sender: the traffic page shows 2 sent, 1 received, the fees each
    way and that we owe beta 0.10 EUR; another month shows none; a month that is not YYYY-MM
    is refused (422)."""
    cfg, _ = network_dir
    peer = peer_toml("beta", BETA, None, agreement={"id": "AB-1", "direction": "both"})
    cfg.write_text(cfg.read_text() + peer + '[peers.agreement.fees]\nper_document = "0.10"\n')
    async with _gateway(network_dir) as (api, admin):
        month = "2026-11"
        for doc, way in (("d1", "send"), ("d2", "send"), ("d3", "receive")):
            await api.gw.store.record_exchange(Exchange(doc, month, "beta", "AB-1", way, "Invoice"))
        await _admin(api, admin)
        page = await _page(api, f"/portal/admin/traffic?month={month}")
        (row,) = page.xpath('//table[@id="traffic"]//tr[@data-peer="beta"]')
        assert row.xpath("string(td[@class='num sent'])") == "2"
        assert row.xpath("string(td[@class='num received'])") == "1"
        assert "send: 0.20 EUR" in row.text_content()
        assert row.xpath("string(td[@class='balance'])") == "we owe beta 0.10 EUR"
        other = await _page(api, "/portal/admin/traffic?month=2026-10")
        (quiet,) = other.xpath('//table[@id="traffic"]//tr[@data-peer="beta"]')
        assert quiet.xpath("string(td[@class='num sent'])") == "0"
        bad = await api.client.get("/portal/admin/traffic?month=november")
        assert bad.status == 422


async def test_wrong_tokens_are_limited_per_client(network_dir: tuple[Path, str]) -> None:
    """Five wrong admin tokens a minute from one client are each refused (401); the sixth
    attempt, even with the right token, gets 429 with Retry-After and no session."""
    async with _gateway(network_dir) as (api, admin):
        csrf = await _csrf(api, "/portal/admin/sign-in")
        for n in range(5):
            wrong = await api.client.post(
                "/portal/admin/sign-in", data={"token": f"guess-{n}", "csrf": csrf}
            )
            assert wrong.status == 401
        blocked = await api.client.post(
            "/portal/admin/sign-in", data={"token": admin, "csrf": csrf}, allow_redirects=False
        )
        assert blocked.status == 429 and int(blocked.headers["Retry-After"]) > 0
        assert "portal_session" not in blocked.headers.get("Set-Cookie", "")
