"""The recipient portal in a real browser (issue #12): headless Chromium
against a real gateway process, signing in through the link the gateway
e-mailed to a real SMTP server, as a small company would.

The element ids are the portal's contract (docs/portal.md). Each page looked
at is saved as a screenshot under the test's folder (``browser/screenshots``);
with PORTAL_SCREENSHOTS=DIR the journey also copies the inbox and document
pages into DIR (docs/img for the README, see docs/portal.md, "Screenshots").
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pypdf import PdfReader
from selenium.webdriver.support.select import Select

from tests import logwatch
from tests.browser import mail
from tests.browser.chrome import Browser, publish
from tests.browser.portal_gateway import PortalGateway
from tests.support import REPO

pytestmark = pytest.mark.slow

# Which screenshots the README shows, and under which names in docs/img.
PUBLISHED = {"inbox": "portal-inbox.png", "document": "portal-document.png"}


def _sign_in(browser: Browser, portal: PortalGateway) -> str:
    """Ask for a sign-in link on /portal/sign-in, read it from the e-mail and
    open it; the link (now used)."""
    seen = len(mail.messages_to(portal.box, portal.buyer_email))
    browser.get(portal.url + "/portal/sign-in")
    browser.wait_for("form#sign-in")
    browser.shot("sign-in")
    browser.find("input#email[name=email]").send_keys(portal.buyer_email)
    browser.follow("#send-link", "#link-sent")
    browser.shot("link-sent")
    link = mail.sign_in_link(portal.box, portal.buyer_email, portal.url, seen=seen)
    logwatch.register(link.rsplit("/", 1)[-1])  # the token is a secret: in no log line
    browser.get(link)
    browser.wait_for("table#documents")
    assert browser.driver.current_url == portal.url + "/portal/", "the link lands on the inbox"
    return link


def _shows_sign_in(browser: Browser) -> None:
    browser.wait_for("form#sign-in")
    assert browser.all("table#documents") == [], "a signed-out browser sees no inbox"


def test_a_company_signs_in_by_email_reads_downloads_chooses_email_and_signs_out(
    browser: Browser, portal: PortalGateway
) -> None:
    """A buyer who receives in the portal asks for a sign-in link, opens it from
    the e-mail, finds in its inbox the invoice the seller sent through the API,
    opens it, downloads its PDF (the invoice number inside; the seller then sees
    it retrieved), switches its reception to e-mail (the next invoice arrives
    by e-mail), and signs out: neither the old session cookie nor the used link
    opens the inbox again."""
    number = "VB-2026-0042"
    doc_id = portal.send(number)["id"]

    link = _sign_in(browser, portal)
    session = browser.driver.get_cookie("portal_session")
    assert session is not None and session["httpOnly"], session
    logwatch.register(session["value"])
    assert browser.find("#company-name").text == portal.buyer_name
    rows = browser.all("table#documents tr[data-document-id]")
    assert [r.get_attribute("data-document-id") for r in rows] == [doc_id]
    assert number in rows[0].text
    browser.shot("inbox")

    opener = browser.find(f'tr[data-document-id="{doc_id}"] a.document-link')
    assert (opener.get_attribute("href") or "").endswith(f"/portal/documents/{doc_id}")
    invoice = browser.follow(f'tr[data-document-id="{doc_id}"] a.document-link', "article#invoice")
    assert number in invoice.text
    assert browser.find("#state").text.strip()
    browser.shot("document")

    pdf = browser.download("#download-pdf", ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert number in text
    assert portal.net.status(doc_id)["status"] == "retrieved"

    browser.get(portal.url + "/portal/preferences")
    browser.wait_for("form#preferences")
    assert browser.find("#company").text.strip()
    Select(browser.find("select[name=mode1]")).select_by_value("email")
    Select(browser.find("select[name=mode2]")).select_by_value("")
    Select(browser.find("select[name=mode3]")).select_by_value("")
    browser.find("input[name=email]").clear()
    browser.find("input[name=email]").send_keys(portal.buyer_email)
    browser.follow("#save-preferences", "#saved")
    browser.shot("preferences-saved")
    browser.get(portal.url + "/portal/preferences")
    chosen = Select(browser.wait_for("select[name=mode1]")).first_selected_option
    assert chosen.get_attribute("value") == "email", "the choice is kept"

    seen = len(mail.messages_to(portal.box, portal.buyer_email))
    second = portal.send("VB-2026-0043")
    assert second["history"][-1]["details"]["channel"] == "email", second["history"]
    [by_mail] = mail.messages_to(portal.box, portal.buyer_email)[seen:]
    assert [p.get_filename() for p in by_mail.iter_attachments()] == [
        "VB-2026-0043.pdf",
        "VB-2026-0043.xml",
    ]

    browser.follow("#sign-out-button", "form#sign-in")
    assert browser.driver.current_url == portal.url + "/portal/sign-in"
    assert browser.driver.get_cookie("portal_session") is None
    browser.shot("signed-out")
    browser.driver.add_cookie({"name": "portal_session", "value": session["value"], "path": "/"})
    browser.get(portal.url + "/portal/")
    _shows_sign_in(browser)
    browser.driver.delete_cookie("portal_session")  # the stale copy put back above
    browser.get(link)
    browser.wait_for("#link-invalid")
    assert browser.driver.get_cookie("portal_session") is None, "a used link signs nobody in"

    if target := os.environ.get("PORTAL_SCREENSHOTS"):
        folder = Path(target) if Path(target).is_absolute() else REPO / target
        publish(browser.shots, PUBLISHED, folder)


def test_the_document_page_shows_the_invoice_itself(
    browser: Browser, portal: PortalGateway
) -> None:
    """The document page shows the invoice as a person reads it: both parties,
    each line, the VAT, the amount due and the account to pay into, not only
    its number."""
    doc_id = portal.send("VB-2026-0044")["id"]
    _sign_in(browser, portal)
    browser.get(f"{portal.url}/portal/documents/{doc_id}")
    shown = browser.wait_for("article#invoice").text
    for what in (
        "VB-2026-0044",
        "Atelier Bressand Quincaillerie",  # the seller
        "Maison Verlaine",  # the buyer
        "Concealed hinge set",  # the lines
        "Fitting labour",
        "82.40",  # the VAT
        "494.40",  # the amount due
    ):
        assert what in shown, f"{what!r} not on the document page: {shown}"
    assert "FR4730004028370001234567813" in shown.replace(" ", ""), "the IBAN to pay into"


def test_the_session_cookie_cannot_be_read_by_the_pages_javascript(
    browser: Browser, portal: PortalGateway
) -> None:
    """Once signed in, a script running in the portal's pages does not see the
    session cookie (HttpOnly), so an injected script could not steal it."""
    _sign_in(browser, portal)
    assert browser.driver.get_cookie("portal_session") is not None
    seen_by_script = browser.driver.execute_script("return document.cookie")
    assert "portal_session" not in seen_by_script


def test_a_forged_sign_in_link_shows_a_clear_page_and_signs_nobody_in(
    browser: Browser, portal: PortalGateway
) -> None:
    """A made-up token in the sign-in link gets the "link invalid" page, no
    session cookie, and the inbox stays closed."""
    browser.get(portal.url + "/portal/sign-in/forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    browser.wait_for("#link-invalid")
    browser.shot("link-invalid")
    assert browser.driver.get_cookie("portal_session") is None
    browser.get(portal.url + "/portal/")
    _shows_sign_in(browser)


def test_the_language_switch_turns_the_portal_to_french_and_back(
    browser: Browser, portal: PortalGateway
) -> None:
    """A browser asking for English gets English pages; the header's French
    link turns the page French (html lang="fr", other words) and the next page
    stays French; the English link turns it back."""
    portal.send("VB-2026-0050")
    _sign_in(browser, portal)
    html = browser.find("html")
    assert html.get_attribute("lang") == "en"
    english = browser.find("table#documents").text
    browser.follow("a[hreflang=fr]", 'html[lang="fr"]')
    assert browser.find("table#documents").text != english, "the column names are translated"
    browser.shot("inbox-fr")
    browser.get(portal.url + "/portal/preferences")
    browser.wait_for("form#preferences")
    assert browser.find("html").get_attribute("lang") == "fr", "the choice is kept"
    browser.follow("a[hreflang=en]", 'html[lang="en"]')
