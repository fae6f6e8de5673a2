"""Fixtures of the browser tests: a headless Chromium (tests.browser.chrome)
and a real gateway with a portal recipient and an SMTP server
(tests.browser.portal_gateway)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chrome import Browser, start_chromium
from tests.browser.portal_gateway import PortalGateway, portal_gateway


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """A fresh headless Chromium; its profile, downloads and screenshots are
    under ``tmp_path/browser``."""
    started = start_chromium(tmp_path / "browser")
    try:
        yield started
    finally:
        started.quit()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalGateway]:
    """A running gateway whose buyer receives in the portal, and its SMTP server."""
    with portal_gateway(tmp_path / "gateway") as running:
        yield running
