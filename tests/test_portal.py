"""The recipient portal over real HTTP on loopback (aiohttp's test client):
signing in through a link read from a real SMTP server, what a bad link, a
missing CSRF token or another company's document gets, escaping of a hostile
invoice, cookie flags and security headers, the link rate limit, preferences
that change the next delivery, and the portal as a reception mode."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config import loader
from gateway.core.signin import make_token, new_link, sign_in_url
from gateway.model import Partner
from gateway.portal.context import PORTAL
from gateway.service.channels import portal_key
from tests.builders import (
    BUYER,
    SELLER,
    STRANGER,
    Api,
    invoice,
    serve_api,
    set_delivery,
    set_participant,
    smtp_server,
)
from tests.builders.smtp import Mailbox
from tests.support import cli, free_port

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Portal:
    api: Api
    box: Mailbox
    base_url: str


def _with_relay(cfg: Path, port: int) -> None:
    set_delivery(cfg, poll_seconds=0.02)
    cfg.write_text(
        cfg.read_text()
        + f'\n[channels.email]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        + 'from = "invoices@alpha.example"\n'
    )


@asynccontextmanager
async def _portal(network_dir: tuple[Path, str]) -> AsyncIterator[Portal]:
    cfg, token = network_dir
    port = free_port()
    set_participant(cfg, BUYER, email="ap@buyer.example")
    set_participant(cfg, SELLER, email="ap@seller.example")
    _with_relay(cfg, port)
    with smtp_server(port) as box:
        async with serve_api(cfg, token) as api:
            yield Portal(api, box, api.gw.settings.network.base_url.rstrip("/"))


async def _csrf(api: Api, path: str = "/portal/sign-in") -> str:
    page = await (await api.client.get(path)).text()
    found = _CSRF.search(page)
    assert found, page
    return found.group(1)


def _link_path(text: str, base_url: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith(base_url + "/portal/sign-in/")]
    assert len(lines) == 1, text
    return lines[0][len(base_url) :]


async def _sign_in(api: Api, participant: object = BUYER) -> None:
    """A session for ``participant`` through a freshly signed link."""
    key = portal_key(api.gw.settings)
    link = new_link(str(participant), f"n-{participant}-{id(api)}", datetime.now(UTC))
    url = sign_in_url("", key, link)
    resp = await api.client.get(url, allow_redirects=False)
    assert resp.status == 303, await resp.text()


async def _delivered(api: Api, number: str, **kwargs: Any) -> str:
    status = await api.send_and_wait(invoice(number, **kwargs))
    assert status["status"] == "delivered", status["history"]
    doc_id: str = status["id"]
    return doc_id


async def test_a_company_signs_in_with_the_link_it_was_mailed(
    network_dir: tuple[Path, str],
) -> None:
    """The buyer types its e-mail, gets "link sent", finds a link alone on its line in the
    message the real SMTP server received, opens it (303 to /portal/, an HttpOnly SameSite=Lax
    session cookie, not Secure over http) and sees its company name and its invoice; an unknown
    address gets the very same page and no mail."""
    async with _portal(network_dir) as p:
        api = p.api
        doc_id = await _delivered(api, "SIGN-1")
        csrf = await _csrf(api)
        sent = await api.client.post(
            "/portal/sign-in", data={"email": "AP@buyer.example", "csrf": csrf}
        )
        page = await sent.text()
        assert sent.status == 200 and 'id="link-sent"' in page
        unknown = await api.client.post(
            "/portal/sign-in", data={"email": "who@nobody.example", "csrf": csrf}
        )
        assert unknown.status == 200
        assert _strip_csrf(await unknown.text()) == _strip_csrf(page)
        for _ in range(200):
            if p.box.received:
                break
            await asyncio.sleep(0.02)
        (mail,) = p.box.received
        assert mail.recipients == ["AP@buyer.example"]
        text = mail.message().get_content()
        path = _link_path(text, p.base_url)

        opened = await api.client.get(path, allow_redirects=False)
        assert opened.status == 303 and opened.headers["Location"] == "/portal/"
        cookie = opened.headers["Set-Cookie"]
        assert cookie.startswith("portal_session=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        inbox = await (await api.client.get("/portal/")).text()
        assert 'id="company-name"' in inbox
        assert f'data-document-id="{doc_id}"' in inbox and "SIGN-1" in inbox


def _strip_csrf(page: str) -> str:
    return _CSRF.sub("", page)


async def test_reused_expired_and_forged_links_sign_nobody_in(
    network_dir: tuple[Path, str],
) -> None:
    """A link used once, one past its 15 minutes, one signed with another key and one whose
    text was changed all get the "link invalid" page (400) and no session cookie."""
    async with _portal(network_dir) as p:
        api = p.api
        key = portal_key(api.gw.settings)
        now = datetime.now(UTC)
        good = sign_in_url("", key, new_link(str(BUYER), "once", now))
        assert (await api.client.get(good, allow_redirects=False)).status == 303
        api.client.session.cookie_jar.clear()
        expired = sign_in_url("", key, new_link(str(BUYER), "old", now - timedelta(minutes=16)))
        forged = sign_in_url("", b"k" * 32, new_link(str(BUYER), "forged", now))
        token = make_token(key, new_link(str(BUYER), "edited", now))
        edited = "/portal/sign-in/" + token.replace(".", "A.", 1)
        for url in (good, expired, forged, edited):
            resp = await api.client.get(url, allow_redirects=False)
            assert resp.status == 400, url
            assert 'id="link-invalid"' in await resp.text()
            assert "portal_session" not in resp.headers.get("Set-Cookie", "")
        inbox = await api.client.get("/portal/", allow_redirects=False)
        assert inbox.status == 303 and inbox.headers["Location"] == "/portal/sign-in"


async def test_forms_without_the_right_csrf_token_are_refused(
    network_dir: tuple[Path, str],
) -> None:
    """Every form refuses a missing or wrong CSRF token with 403 and changes nothing: sign-in,
    sign-out (the session lives on), preferences and mark as taken."""
    async with _portal(network_dir) as p:
        api = p.api
        doc_id = await _delivered(api, "CSRF-1")
        await api.client.get("/portal/sign-in")
        for data in ({"email": "ap@buyer.example"}, {"email": "ap@buyer.example", "csrf": "x"}):
            resp = await api.client.post("/portal/sign-in", data=data)
            assert resp.status == 403 and 'id="forbidden"' in await resp.text()
        await _sign_in(api)
        for path, data in (
            ("/portal/sign-out", {}),
            ("/portal/preferences", {"mode1": "paper", "address": "x", "csrf": "wrong"}),
            (f"/portal/documents/{doc_id}/ack", {"csrf": ""}),
        ):
            resp = await api.client.post(path, data=data, allow_redirects=False)
            assert resp.status == 403, path
        assert (await api.client.get("/portal/", allow_redirects=False)).status == 200
        assert await api.gw.store.portal_choice(str(BUYER)) is None
        states = [e.state.value for e in await api.gw.store.history(doc_id)]
        assert "retrieved" not in states
        assert not p.box.received


async def test_a_company_cannot_see_another_companys_document(
    network_dir: tuple[Path, str],
) -> None:
    """Signed in as the seller, the buyer's document, its PDF, its UBL and its ack all answer
    the portal's 404 page, exactly like an id that does not exist; the seller's inbox is empty."""
    async with _portal(network_dir) as p:
        api = p.api
        doc_id = await _delivered(api, "MINE-1")
        await _sign_in(api, SELLER)
        csrf = await _csrf(api, "/portal/")
        for path in ("", "/pdf", "/ubl"):
            resp = await api.client.get(f"/portal/documents/{doc_id}{path}")
            assert resp.status == 404 and 'id="not-found"' in await resp.text()
        ack = await api.client.post(f"/portal/documents/{doc_id}/ack", data={"csrf": csrf})
        assert ack.status == 404
        unknown = await api.client.get("/portal/documents/no-such-id")
        assert unknown.status == 404
        inbox = await (await api.client.get("/portal/")).text()
        assert doc_id not in inbox


async def test_a_hostile_invoice_is_shown_escaped(network_dir: tuple[Path, str]) -> None:
    """An invoice whose seller name holds HTML and a script is listed and shown as text:
    the markup arrives escaped in both the inbox and the document page."""
    hostile = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;Evil&lt;/b&gt;"
    body = invoice("EVIL-1").replace(b"Atelier Bressand Quincaillerie", hostile.encode())
    async with _portal(network_dir) as p:
        api = p.api
        status = await api.send_and_wait(body)
        await _sign_in(api)
        pages = [
            await (await api.client.get("/portal/")).text(),
            await (await api.client.get(f"/portal/documents/{status['id']}")).text(),
        ]
    for page in pages:
        assert "<script>" not in page and "<b>Evil" not in page
        assert "&lt;script&gt;alert(1)" in page


async def test_every_portal_answer_carries_the_security_headers(
    network_dir: tuple[Path, str],
) -> None:
    """Pages, error pages, redirects, downloads and the stylesheet all carry a CSP with no
    script and no framing, and nosniff; the pages hold no script at all."""
    async with _portal(network_dir) as p:
        api = p.api
        doc_id = await _delivered(api, "HDR-1")
        answers = [await api.client.get("/portal/", allow_redirects=False)]
        await _sign_in(api)
        for path in (
            "/portal/sign-in",
            "/portal/",
            "/portal/preferences",
            f"/portal/documents/{doc_id}",
            f"/portal/documents/{doc_id}/ubl",
            f"/portal/documents/{doc_id}/pdf",
            "/portal/nothing-here",
            "/portal/static/portal.css",
        ):
            answers.append(await api.client.get(path, allow_redirects=False))
        for resp in answers:
            csp = resp.headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, resp.url
            assert "script-src 'none'" in csp
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            if resp.content_type == "text/html":
                assert "<script" not in await resp.text()


async def test_link_requests_are_limited_per_address(network_dir: tuple[Path, str]) -> None:
    """Three link requests a minute for one address are answered; the fourth gets 429 with
    Retry-After, and no fourth mail leaves."""
    async with _portal(network_dir) as p:
        api = p.api
        csrf = await _csrf(api)
        statuses = []
        for _ in range(4):
            resp = await api.client.post(
                "/portal/sign-in", data={"email": "ap@buyer.example", "csrf": csrf}
            )
            statuses.append(resp.status)
        assert statuses == [200, 200, 200, 429]
        assert int(resp.headers["Retry-After"]) > 0
        for _ in range(200):
            if len(p.box.received) >= 3:
                break
            await asyncio.sleep(0.02)
        assert len(p.box.received) == 3


async def test_language_follows_the_browser_and_the_switch(
    network_dir: tuple[Path, str],
) -> None:
    """French for a browser that prefers it, English by default, and ?lang= switches and is
    remembered in an HttpOnly cookie."""
    async with _portal(network_dir) as p:
        api = p.api
        fr = await api.client.get("/portal/sign-in", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert '<html lang="fr">' in await fr.text()
        api.client.session.cookie_jar.clear()
        en = await api.client.get("/portal/sign-in")
        assert '<html lang="en">' in await en.text()
        switched = await api.client.get("/portal/sign-in?lang=fr")
        assert "HttpOnly" in switched.headers["Set-Cookie"]
        again = await api.client.get("/portal/sign-in")
        assert '<html lang="fr">' in await again.text()


async def test_preferences_change_how_the_next_document_arrives(
    network_dir: tuple[Path, str],
) -> None:
    """The buyer switches to e-mail first at a new address in the portal: the page says saved,
    the choice is in its history, and its next invoice is e-mailed there instead of reaching
    its network folder; a choice that asks for paper without an address is refused (422)."""
    async with _portal(network_dir) as p:
        api = p.api
        first = await api.send_and_wait(invoice("PREF-1"))
        assert first["history"][-1]["details"]["channel"] == "network"
        await _sign_in(api)
        csrf = await _csrf(api, "/portal/preferences")
        bad = await api.client.post(
            "/portal/preferences", data={"mode1": "paper", "address": "", "csrf": csrf}
        )
        assert bad.status == 422
        saved = await api.client.post(
            "/portal/preferences",
            data={
                "mode1": "email",
                "mode2": "network",
                "mode3": "",
                "email": "new@buyer.example",
                "address": "1 rue Neuve\n75001 Paris",
                "csrf": csrf,
            },
        )
        page = await saved.text()
        assert saved.status == 200 and 'id="saved"' in page and 'id="company"' in page
        choice = await api.gw.store.portal_choice(str(BUYER))
        assert choice is not None and choice.reception == ("email", "network")
        assert choice.address == ("1 rue Neuve", "75001 Paris")
        second = await api.send_and_wait(invoice("PREF-2"))
    assert second["history"][-1]["details"]["channel"] == "email", second["history"]
    assert [m.recipients for m in p.box.received] == [["new@buyer.example"]]


async def test_portal_reception_notifies_and_opening_records_retrieved(
    network_dir: tuple[Path, str],
) -> None:
    """A buyer receiving by portal gets an e-mail with no invoice attached and a sign-in link
    to the document; the document is delivered when notified; the link opens the document,
    which records retrieved once (opening it again and downloading add nothing). A buyer with
    no e-mail address is refused by the portal mode, so its waterfall moves on."""
    cfg, _ = network_dir
    set_participant(cfg, BUYER, reception=["portal", "network"])
    async with _portal(network_dir) as p:
        api = p.api
        status = await api.send_and_wait(invoice("NOTE-1"))
        assert status["status"] == "delivered"
        assert status["history"][-1]["details"]["channel"] == "portal"
        (mail,) = p.box.received
        message = mail.message()
        assert not list(message.iter_attachments())
        path = _link_path(message.get_content(), p.base_url)
        opened = await api.client.get(path, allow_redirects=False)
        assert opened.headers["Location"] == f"/portal/documents/{status['id']}"
        page = await (await api.client.get(opened.headers["Location"])).text()
        assert 'id="invoice"' in page and 'id="state"' in page
        await api.client.get(f"/portal/documents/{status['id']}")
        await api.client.get(f"/portal/documents/{status['id']}/ubl")
        history = [e.state.value for e in await api.gw.store.history(status["id"])]
        assert history.count("retrieved") == 1 and history[-1] == "retrieved"

        set_participant(cfg, BUYER, email="")
        api.gw.settings = api.gw.pipeline.settings = loader.load(cfg)
        moved = await api.send_and_wait(invoice("NOTE-2"))
    states = [e["state"] for e in moved["history"]]
    assert states == ["received", "routed", "fallback", "delivered"], moved["history"]
    assert "no e-mail address" in moved["history"][2]["reason"]


async def test_an_admin_prints_a_sign_in_link_for_one_of_our_companies(
    network_dir: tuple[Path, str],
) -> None:
    """`gateway portal link` prints the URL alone on its line, under the gateway's base URL,
    and it signs the buyer in once; a participant that is not ours exits 2 naming it, and a
    malformed id exits 2 too."""
    cfg, token = network_dir
    done = cli("portal", "link", str(BUYER), "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    (url,) = done.stdout.splitlines()
    foreign = cli("portal", "link", str(STRANGER), "--config", str(cfg))
    assert foreign.returncode == 2 and str(STRANGER) in foreign.stderr and not foreign.stdout
    assert cli("portal", "link", "not-an-id", "--config", str(cfg)).returncode == 2
    async with serve_api(cfg, token) as api:
        base = api.gw.settings.network.base_url.rstrip("/")
        assert url.startswith(base + "/portal/sign-in/")
        path = url[len(base) :]
        assert (await api.client.get(path, allow_redirects=False)).status == 303
        api.client.session.cookie_jar.clear()
        assert (await api.client.get(path, allow_redirects=False)).status == 400


async def test_signing_out_ends_the_session_everywhere(network_dir: tuple[Path, str]) -> None:
    """Sign-out (with its CSRF token) answers 303 to the sign-in page, clears the cookie and
    deletes the session in the store: the old cookie value, sent again, reads nothing."""
    async with _portal(network_dir) as p:
        api = p.api
        await _sign_in(api)
        raw = api.client.session.cookie_jar.filter_cookies(api.client.make_url("/portal/"))
        session = raw["portal_session"].value
        csrf = await _csrf(api, "/portal/")
        out = await api.client.post("/portal/sign-out", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 303 and out.headers["Location"] == "/portal/sign-in"
        assert 'portal_session=""' in out.headers["Set-Cookie"]
        api.client.session.cookie_jar.update_cookies(
            {"portal_session": session}, api.client.make_url("/portal/")
        )
        again = await api.client.get("/portal/", allow_redirects=False)
        assert again.status == 303 and again.headers["Location"] == "/portal/sign-in"


async def test_the_inbox_filters_by_sender_state_and_date_and_pages(
    network_dir: tuple[Path, str],
) -> None:
    """Three invoices, newest first, two a page with an "older documents" link that shows the
    third; filtering by state, by a sender that sent nothing, or by a date after today empties
    the list; a sender filter matching the seller keeps them all; a malformed date is 422."""
    async with _portal(network_dir) as p:
        api = p.api
        ids = [await _delivered(api, f"PAGE-{n}") for n in (1, 2, 3)]
        api.client.server.app[PORTAL].page_size = 2
        await _sign_in(api)

        first = await (await api.client.get("/portal/")).text()
        assert _rows(first) == [ids[2], ids[1]]
        found = re.search(r'id="next-page" href="([^"]+)"', first)
        assert found
        second = await (await api.client.get(found.group(1).replace("&amp;", "&"))).text()
        assert _rows(second) == [ids[0]] and 'id="next-page"' not in second

        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        for query in ("state=retrieved", "sender=nobody", f"since={tomorrow}"):
            page = await (await api.client.get(f"/portal/?{query}")).text()
            assert _rows(page) == [], query
        seller = await (await api.client.get(f"/portal/?sender={SELLER}")).text()
        assert _rows(seller) == [ids[2], ids[1]] and 'id="next-page"' in seller
        bad = await api.client.get("/portal/?since=yesterday")
        assert bad.status == 422


def _rows(page: str) -> list[str]:
    return re.findall(r'data-document-id="([^"]+)"', page)


async def test_a_directory_partner_of_our_network_signs_in_and_its_record_changes(
    network_dir: tuple[Path, str],
) -> None:
    """A partner of our network in the directory (not in gateway.toml) gets a link at its
    e-mail, signs in, and saving its preferences rewrites its directory record (reception,
    e-mail, address), which routing reads for its next document."""
    async with _portal(network_dir) as p:
        api = p.api
        pid = "0088:5790000435975"
        network = api.gw.settings.network.name
        await api.gw.store.put_partners(
            [Partner(pid, "Dir Co", network=network, email="dir@co.example")]
        )
        csrf = await _csrf(api)
        await api.client.post("/portal/sign-in", data={"email": "dir@co.example", "csrf": csrf})
        for _ in range(200):
            if p.box.received:
                break
            await asyncio.sleep(0.02)
        (mail,) = p.box.received
        path = _link_path(mail.message().get_content(), p.base_url)
        assert (await api.client.get(path, allow_redirects=False)).status == 303
        csrf = await _csrf(api, "/portal/preferences")
        saved = await api.client.post(
            "/portal/preferences",
            data={"mode1": "paper", "email": "", "address": "2 Main St\nOslo", "csrf": csrf},
        )
        assert saved.status == 200 and 'id="saved"' in await saved.text()
        partner = await api.gw.store.get_partner(pid)
    assert partner is not None
    assert (partner.modes, partner.email, partner.address) == (
        ("paper",),
        "",
        ("2 Main St", "Oslo"),
    )


async def test_the_session_cookie_is_secure_behind_an_https_base_url(
    network_dir: tuple[Path, str],
) -> None:
    """With an https base_url, the session cookie is also Secure (still HttpOnly, SameSite=Lax),
    and the printed links start with that https address."""
    cfg, token = network_dir
    text = cfg.read_text()
    cfg.write_text(re.sub(r'base_url = "http://', 'base_url = "https://', text, count=1))
    async with serve_api(cfg, token) as api:
        assert api.gw.settings.network.base_url.startswith("https://")
        key = portal_key(api.gw.settings)
        url = sign_in_url(api.gw.settings.network.base_url, key, new_link(str(BUYER), "s", _now()))
        assert url.startswith("https://")
        path = url[len(api.gw.settings.network.base_url.rstrip("/")) :]
        resp = await api.client.get(path, allow_redirects=False)
        cookie = resp.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _now() -> datetime:
    return datetime.now(UTC)
