from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from gateway import log as gateway_log
from tests import logwatch
from tests.builders import FIXED_NOW, Api, Pki, make_pki, network_config, serve_api

# No per-example deadline: the machine is shared and its speed swings; a slow
# example is not a wrong one (speed lives in benchmarks/, not in tests).
settings.register_profile("gateway", deadline=None)
settings.load_profile("gateway")


@pytest.fixture
def network_dir(tmp_path: Path) -> tuple[Path, str]:
    """A test network's gateway.toml serving SELLER and BUYER, and its sender
    token. It validates in the test's own process: tests/test_checker.py and
    tests/e2e run the default ("auto")."""
    made = network_config(tmp_path)
    return made.config, made.token


@pytest.fixture
async def api(network_dir: tuple[Path, str]) -> AsyncIterator[Api]:
    cfg, token = network_dir
    async with serve_api(cfg, token) as api:
        yield api


@pytest.fixture(scope="session")
def pki() -> Pki:
    """Keys and certificates valid around the real time (one set per worker)."""
    return make_pki()


@pytest.fixture(scope="session")
def fixed_pki() -> Pki:
    """Keys and certificates valid around FIXED_NOW (one set per worker)."""
    return make_pki(FIXED_NOW)


# --- no secret in any log line of the suite (see tests/logwatch.py) ----------


@pytest.fixture(scope="session", autouse=True)
def _watch_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    logwatch.start(tmp_path_factory.getbasetemp())
    configure = gateway_log.configure

    def teed(fmt: str = "auto", level: str = "info", *, stream: object = None) -> None:
        # Code under test may configure logging again (a reload): keep the copy.
        configure("json", level, stream=logwatch.Tee("inprocess.log"))

    teed(level="debug")
    # Our debug lines, yes; every library's debug chatter, no.
    logging.getLogger().setLevel(logging.INFO)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gateway_log, "configure", teed)
        yield


_worker_leaks: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    found = logwatch.leaks() + _worker_leaks
    if hasattr(session.config, "workeroutput"):  # an xdist worker: the controller reports
        session.config.workeroutput["secret_leaks"] = found
        return
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "secrets found in the logs of this run", red=True)
            for line in found:
                reporter.write_line(line)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    _worker_leaks.extend(getattr(node, "workeroutput", {}).get("secret_leaks", []))
