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
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests import logwatch
from tests.browser import mail
from tests.browser.chrome import Browser, publish
from tests.browser.portal_gateway import PortalGateway
from tests.builders import invoice
from tests.support import REPO, cli

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
    opens it, downloads its PDF (the invoice number inside) and its UBL (as sent;
    the seller then sees it retrieved), switches its reception to e-mail (the next invoice arrives
    by e-mail), and signs out: neither the old session cookie nor the used link
    opens the inbox again."""
    number = "VB-2026-0042"
    doc_id = portal.send(number)["id"]
    sent = invoice(number, seller=portal.seller, buyer=portal.buyer)

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
    page = browser.follow(f'tr[data-document-id="{doc_id}"] a.document-link', "article#invoice")
    assert number in page.text
    assert browser.find("#state").text.strip()
    browser.shot("document")

    pdf = browser.download("#download-pdf", ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert number in text
    assert browser.download("#download-ubl", ".xml").read_bytes() == sent, "the UBL as sent"
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
    """Signed in with the link `gateway portal link` prints, a browser asking
    for English gets English pages; the header's French link turns the page
    French (html lang="fr", other words) and the next page stays French; the
    English link turns it back."""
    portal.send("VB-2026-0050")
    printed = cli("portal", "link", portal.buyer, "--config", str(portal.net.config))
    assert printed.returncode == 0, printed.stderr
    [link] = mail.links_in(printed.stdout, portal.url + "/portal/sign-in/")
    logwatch.register(link.rsplit("/", 1)[-1])
    browser.get(link)
    browser.wait_for("table#documents")
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


def test_the_notice_of_a_new_invoice_opens_it_in_one_click(
    browser: Browser, portal: PortalGateway
) -> None:
    """A buyer who receives in the portal is e-mailed a notice of each new
    invoice; its link opens that invoice in the browser, signed in, and the
    seller then sees it retrieved."""
    number = "VB-2026-0060"
    doc_id = portal.send(number)["id"]
    link = mail.sign_in_link(portal.box, portal.buyer_email, portal.url)
    logwatch.register(link.rsplit("/", 1)[-1])
    [notice] = mail.messages_to(portal.box, portal.buyer_email)
    assert number in mail.text_of(notice) and not list(notice.iter_attachments())
    browser.get(link)
    assert number in browser.wait_for("article#invoice").text
    assert browser.driver.current_url.endswith(f"/portal/documents/{doc_id}")
    browser.shot("document-from-notice")
    assert portal.net.status(doc_id)["status"] == "retrieved"


HOSTILE = (
    "&lt;script&gt;window.hostile = 1&lt;/script&gt;"
    '&lt;img src="x" onerror="window.hostile = 2"&gt;Bressand'
)


def test_markup_in_an_invoice_is_shown_as_text_and_never_runs(
    browser: Browser, portal: PortalGateway
) -> None:
    """An invoice whose seller name and note carry a script and an image with
    an onerror handler shows them as text in the inbox and on the document
    page: no element is made of them and no script runs."""
    body = invoice("VB-2026-0070", seller=portal.seller, buyer=portal.buyer)
    body = body.replace(b"Atelier Bressand Quincaillerie SAS", HOSTILE.encode())
    body = body.replace(b"Hinges and fitting", HOSTILE.encode())
    code, answer = portal.net.submit(body)
    assert code == 202, answer
    doc_id = answer["id"]
    assert portal.net.wait_final(doc_id)["status"] == "delivered"
    _sign_in(browser, portal)
    literal = '<img src="x" onerror="window.hostile = 2">'
    assert literal in browser.find(f'tr[data-document-id="{doc_id}"]').text
    browser.get(f"{portal.url}/portal/documents/{doc_id}")
    shown = browser.wait_for("article#invoice")
    assert shown.text.count("<script>window.hostile = 1</script>") >= 2, shown.text
    assert browser.all("body script") == [] and browser.all("article#invoice img") == []
    assert browser.driver.execute_script("return window.hostile === undefined")
    browser.shot("hostile-invoice")


def test_sign_in_works_from_the_keyboard_and_every_field_has_a_label(
    browser: Browser, portal: PortalGateway
) -> None:
    """On the sign-in and preferences pages every field a person fills has a
    label naming it; the sign-in form is reached with Tab and sent with
    Enter, without a mouse."""
    browser.get(portal.url + "/portal/sign-in")
    browser.wait_for("form#sign-in")
    assert _unlabelled(browser) == []
    for _ in range(20):  # Tab from the top of the page to the e-mail field
        if browser.driver.switch_to.active_element.get_attribute("id") == "email":
            break
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
    focused = browser.driver.switch_to.active_element
    assert focused.get_attribute("id") == "email", "Tab reaches the e-mail field"
    seen = len(mail.messages_to(portal.box, portal.buyer_email))
    old = browser.find("html")
    focused.send_keys(portal.buyer_email, Keys.ENTER)
    WebDriverWait(browser.driver, 30).until(expected_conditions.staleness_of(old))
    browser.wait_for("#link-sent")
    link = mail.sign_in_link(portal.box, portal.buyer_email, portal.url, seen=seen)
    logwatch.register(link.rsplit("/", 1)[-1])
    browser.get(link)
    browser.wait_for("table#documents")
    assert _unlabelled(browser) == []
    browser.get(portal.url + "/portal/preferences")
    browser.wait_for("form#preferences")
    assert _unlabelled(browser) == []


def _unlabelled(browser: Browser) -> list[str]:
    """The fields a person fills on this page that no label names."""
    fields = browser.all("input:not([type=hidden]):not([type=submit]), select, textarea")
    missing = []
    for field in fields:
        ident = field.get_attribute("id") or ""
        labelled = bool(ident and browser.all(f'label[for="{ident}"]'))
        labelled = labelled or bool(field.get_attribute("aria-label"))
        labelled = labelled or bool(field.find_elements(By.XPATH, "ancestor::label"))
        if not labelled:
            missing.append(field.get_attribute("outerHTML") or "?")
    return missing


def test_the_inbox_filter_form_narrows_the_list_by_state_and_sender(
    browser: Browser, portal: PortalGateway
) -> None:
    """Of two invoices, the one opened is retrieved and the other still
    delivered: the inbox's filter form, sent from the browser, lists only the
    state chosen, and a sender filter matching neither lists none."""
    opened = portal.send("VB-2026-0080")["id"]
    waiting = portal.send("VB-2026-0081")["id"]
    _sign_in(browser, portal)
    assert _listed(browser) == {opened, waiting}
    browser.get(f"{portal.url}/portal/documents/{opened}")
    browser.wait_for("article#invoice")
    browser.get(portal.url + "/portal/")
    for state, expected in (("retrieved", {opened}), ("delivered", {waiting})):
        Select(browser.wait_for("#filters select[name=state]")).select_by_value(state)
        browser.follow("#filters button[type=submit]", "table#documents")
        assert _listed(browser) == expected, state
    browser.shot("inbox-filtered")
    Select(browser.find("#filters select[name=state]")).select_by_value("")
    browser.find("#filters input[name=sender]").send_keys("Nobody Ltd")
    browser.follow("#filters button[type=submit]", "#filters")
    assert _listed(browser) == set()


def _listed(browser: Browser) -> set[str]:
    rows = browser.all("table#documents tr[data-document-id]")
    return {r.get_attribute("data-document-id") or "" for r in rows}
