"""Fixtures of the browser tests: a headless Chromium (tests.browser.chrome)
and a real gateway with a portal recipient and an SMTP server
(tests.browser.portal_gateway)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.browser.chrome import Browser, start_chromium
from tests.browser.portal_gateway import PortalGateway, portal_gateway

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note on the test whether its body failed, for the browser's teardown."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Browser]:
    """A fresh headless Chromium; its profile, downloads and screenshots are
    under ``tmp_path/browser``. A test that fails leaves a last screenshot,
    ``NN-failure.png``, of the page it was on."""
    started = start_chromium(tmp_path / "browser")
    try:
        yield started
        if request.node.stash.get(_FAILED, False):
            print(f"the page at the failure: {started.shot('failure')}")
    finally:
        started.quit()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalGateway]:
    """A running gateway whose buyer receives in the portal, and its SMTP server."""
    with portal_gateway(tmp_path / "gateway") as running:
        yield running
