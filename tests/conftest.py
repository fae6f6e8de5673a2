from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import settings

from gateway import log as gateway_log
from gateway.cli.scaffold import gln, init_network
from gateway.config import loader
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from gateway.server.app import Gateway, make_app, running
from tests import logwatch

# No per-example deadline: the machine is shared and its speed swings; a slow
# example is not a wrong one (speed lives in benchmarks/, not in tests).
settings.register_profile("gateway", deadline=None)
settings.load_profile("gateway")

SELLER = ParticipantId("0088", gln("5730000001"))
BUYER = ParticipantId("0088", gln("5730000002"))
STRANGER = ParticipantId("0088", gln("5730000099"))


@dataclass
class Api:
    client: TestClient
    gw: Gateway
    token: str
    directory: Path

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/xml"}


def invoice(business_id: str = "INV-1", *, buyer: ParticipantId = BUYER) -> bytes:
    return sample_document(
        DocumentKind.INVOICE, seller=SELLER, buyer=buyer, business_id=business_id
    )


@pytest.fixture
def network_dir(tmp_path: Path) -> tuple[Path, str]:
    made = init_network(
        tmp_path / "net",
        name="testnet",
        port=8080,
        participants=[SELLER, BUYER],
        now=datetime.now(UTC),
    )
    # In-process tests validate in the test's own process: a validation
    # process per test would cost seconds each. tests/test_checker.py and
    # tests/e2e run the default ("auto").
    text = made.config.read_text()
    made.config.write_text(text.replace('processes = "auto"', "processes = 0", 1))
    return made.config, made.token


@pytest.fixture
async def api(network_dir: tuple[Path, str]) -> AsyncIterator[Api]:
    cfg, token = network_dir
    settings = loader.load(cfg)
    async with running(settings) as gw:
        client = TestClient(TestServer(make_app(gw)))
        await client.start_server()
        try:
            yield Api(client, gw, token, cfg.parent)
        finally:
            await client.close()


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
