"""A real headless Chromium for the browser tests: Debian's ``chromium`` driven
through its ``chromedriver`` by selenium, with a fresh profile, a fixed window
and a download folder inside the test's temp dir, and a screenshot of each
page the test looks at.

scripts/test installs the two packages when they are missing; a machine
without them fails these tests (it never skips them), naming what to install.
"""

from __future__ import annotations

import base64
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Fixed, so screenshots are comparable from run to run (and fit docs/img).
WINDOW = (1280, 900)
# How long a page may take to show what a test waits for: generous, the
# machine is shared; a wait that runs out fails with the page's address.
PATIENCE_SECONDS = 30.0


def require_chromium() -> None:
    """Fail (never skip) where the browser is missing, saying how to get it."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        raise AssertionError(
            f"{' and '.join(missing)} missing: the browser tests need Debian's chromium and "
            "chromium-driver packages (scripts/test installs them with apt-get)"
        )


@dataclass
class Browser:
    """One headless Chromium and where it keeps its files: ``folder/profile``
    (a fresh profile), ``folder/downloads`` and ``folder/screenshots``."""

    driver: WebDriver
    folder: Path
    shots: dict[str, Path] = field(default_factory=dict)

    @property
    def downloads(self) -> Path:
        return self.folder / "downloads"

    def get(self, url: str) -> None:
        self.driver.get(url)

    def shot(self, name: str) -> Path:
        """Save a PNG of the whole page as it is now (below the window's edge
        too), as ``screenshots/NN-name.png`` (NN: the order the test took
        them in); kept in ``shots`` by name."""
        folder = self.folder / "screenshots"
        folder.mkdir(exist_ok=True)
        path = folder / f"{len(self.shots) + 1:02d}-{name}.png"
        layout = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        page, window = layout["cssContentSize"], layout["cssLayoutViewport"]
        clip = {
            "x": 0,
            "y": 0,
            "width": window["clientWidth"],
            "height": max(page["height"], window["clientHeight"]),
            "scale": 1,
        }
        taken = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path.write_bytes(base64.b64decode(taken["data"]))
        self.shots[name] = path
        return path

    def wait_for(self, css: str) -> WebElement:
        """The element ``css`` selects on the page now loading or loaded: the
        portal's pages are rendered on the server, so once the page has
        loaded the element is there or never will be (no waiting on a 404)."""
        try:
            WebDriverWait(self.driver, PATIENCE_SECONDS).until(
                lambda driver: driver.execute_script("return document.readyState") == "complete"
            )
        except TimeoutException:
            raise AssertionError(
                f"{self.driver.current_url} still loading after {PATIENCE_SECONDS:.0f}s"
            ) from None
        found = self.all(css)
        assert found, f"{css} not on {self.driver.current_url}; the page: {self.page_text()}"
        return found[0]

    def page_text(self) -> str:
        """The page's source, cut to what an assertion message can show."""
        return self.driver.page_source[:3000]

    def find(self, css: str) -> WebElement:
        """The element ``css`` selects on the page shown now (it must be there)."""
        found = self.all(css)
        assert found, f"{css} not on {self.driver.current_url}; the page: {self.page_text()}"
        return found[0]

    def all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def follow(self, css: str, then: str) -> WebElement:
        """Click ``css`` (a link, or a form's button) and wait for the next
        page to show ``then``; the old page must go first, so ``then`` is not
        found on the page being left."""
        old = self.find("html")
        self.find(css).click()
        try:
            WebDriverWait(self.driver, PATIENCE_SECONDS).until(
                expected_conditions.staleness_of(old)
            )
        except TimeoutException:
            raise AssertionError(
                f"clicking {css} on {self.driver.current_url} led nowhere in "
                f"{PATIENCE_SECONDS:.0f}s"
            ) from None
        return self.wait_for(then)

    def download(self, link_css: str, suffix: str) -> Path:
        """Click ``link_css`` and return the file the browser saved in
        ``downloads`` once it is complete (its name ends with ``suffix``)."""
        self.downloads.mkdir(exist_ok=True)
        before = set(self.downloads.iterdir())
        self.find(link_css).click()
        deadline = time.monotonic() + PATIENCE_SECONDS
        while time.monotonic() < deadline:
            done = [p for p in set(self.downloads.iterdir()) - before if p.name.endswith(suffix)]
            if done and not any(p.name.endswith(".crdownload") for p in self.downloads.iterdir()):
                [path] = done
                return path
            time.sleep(0.05)
        found = sorted(p.name for p in self.downloads.iterdir())
        raise AssertionError(f"no *{suffix} downloaded from {link_css}; the folder has {found}")

    def quit(self) -> None:
        self.driver.quit()


def start_chromium(folder: Path) -> Browser:
    """A headless Chromium with a fresh profile under ``folder``, downloads
    saved without asking into ``folder/downloads`` (PDFs too, not shown in a
    viewer), and a ``WINDOW``-sized window."""
    require_chromium()
    folder.mkdir(parents=True, exist_ok=True)
    downloads = folder / "downloads"
    downloads.mkdir(exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        f"--user-data-dir={folder / 'profile'}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--no-sandbox",  # the tests run as root in CI, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--lang=en-GB",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "plugins.always_open_pdf_externally": True,
            "intl.accept_languages": "en-GB,en",
        },
    )
    service = Service(str(CHROMEDRIVER), log_output=str(folder / "chromedriver-log.txt"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return Browser(driver, folder)


def publish(shots: dict[str, Path], names: dict[str, str], folder: Path) -> list[Path]:
    """Copy the screenshots named in ``names`` (shot name -> file name) into
    ``folder`` (docs/img for the README); the copies made."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for shot, file_name in names.items():
        assert shot in shots, f"no screenshot {shot!r} was taken (taken: {sorted(shots)})"
        made.append(Path(shutil.copyfile(shots[shot], folder / file_name)))
    return made
