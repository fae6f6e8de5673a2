"""The browser tests' own tools, against real things: Debian's headless
Chromium showing a page of a real gateway process, a screenshot of it, a file
it downloads over HTTP, and the sign-in link read from a message a real SMTP
server received."""

from __future__ import annotations

import json
import smtplib
import struct
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser import mail
from tests.browser.chrome import WINDOW, Browser, publish
from tests.browser.portal_gateway import PortalGateway
from tests.builders import smtp_server
from tests.support import free_port

pytestmark = pytest.mark.slow

PDF = b"%PDF-1.4\n% a stand-in: the browser must keep these bytes as they are\n%%EOF\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chromium_shows_a_page_of_a_real_gateway_and_saves_its_screenshot(
    browser: Browser, portal: PortalGateway
) -> None:
    """Headless Chromium opens the running gateway's /healthz and reads the
    network's name in it; the screenshot saved under the test's folder is a
    PNG as wide as the fixed window."""
    browser.get(portal.url + "/healthz")
    shown = json.loads(browser.driver.find_element(By.TAG_NAME, "body").text)
    assert shown["status"] == "ok" and shown["network"] == "alpha"
    path = browser.shot("healthz")
    assert path.parent == browser.folder / "screenshots" and path.name == "01-healthz.png"
    assert _png_size(path)[0] == WINDOW[0]
    assert browser.shots == {"healthz": path}


@pytest.fixture
def pdf_site() -> Iterator[str]:
    """An HTTP server on loopback: / links to /file.pdf, served as an attachment."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/file.pdf":
                body, kind = PDF, "application/pdf"
                extra = {"Content-Disposition": 'attachment; filename="INV-7.pdf"'}
            else:
                body, kind = b'<html><a id="get" href="/file.pdf">PDF</a></html>', "text/html"
                extra = {}
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_downloaded_pdf_lands_in_the_tests_download_folder_unchanged(
    browser: Browser, pdf_site: str
) -> None:
    """Clicking a link to a PDF saves it, without a prompt or a viewer, in the
    test's own download folder, under the served name and byte for byte."""
    browser.get(pdf_site + "/")
    saved = browser.download("#get", ".pdf")
    assert saved.parent == browser.downloads and saved.name == "INV-7.pdf"
    assert saved.read_bytes() == PDF


def test_the_sign_in_link_is_read_from_the_message_the_smtp_server_received() -> None:
    """A message to the recipient whose text has the link on its own line
    gives that link; a message to someone else, or a link inside a sentence,
    gives none."""
    port = free_port()
    base = "http://127.0.0.1:8080"
    link = base + "/portal/sign-in/abc.DEF-123"
    with smtp_server(port) as box:
        with smtplib.SMTP("127.0.0.1", port) as client:
            for to, text in (
                ("other@example.com", f"Your link:\n{base}/portal/sign-in/not-yours\n"),
                ("ap@example.com", f"Hello,\n\nsee {base}/portal/sign-in/inline here\n"),
                ("ap@example.com", f"Hello,\n\nSign in with this link:\n\n  {link}\n\nBye\n"),
            ):
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = "gw@example.com", to, "Link"
                message.set_content(text)
                client.send_message(message)
        assert mail.sign_in_link(box, "ap@example.com", base) == link
        assert mail.sign_in_link(box, "ap@example.com", base + "/") == link
        with pytest.raises(AssertionError, match=r"no message to ap@example\.com with a line"):
            mail.sign_in_link(box, "ap@example.com", base, seen=2, patience=0)


def test_publishing_copies_the_named_screenshots_and_refuses_a_missing_one(
    tmp_path: Path,
) -> None:
    """The screenshots named for docs/img are copied there under their new
    names; asking for one that was never taken fails, naming those taken."""
    shot = tmp_path / "03-inbox.png"
    shot.write_bytes(b"\x89PNG fake")
    made = publish({"inbox": shot}, {"inbox": "portal-inbox.png"}, tmp_path / "img")
    assert made == [tmp_path / "img" / "portal-inbox.png"]
    assert made[0].read_bytes() == shot.read_bytes()
    with pytest.raises(AssertionError, match=r"no screenshot 'document' .*\['inbox'\]"):
        publish({"inbox": shot}, {"document": "portal-document.png"}, tmp_path / "img")
