"""Handing a closed print batch to the print house over SFTP (issue #11): a real
asyncssh SFTP server on loopback receives the ZIP; an unknown host key is refused;
a server that is down is named and the batch kept for the next try; the daily
cycle of `gateway serve` survives a failed hand-off and retries."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, time
from pathlib import Path

import asyncssh
import pytest
from structlog.testing import capture_logs

from gateway.channels.print_cycle import PrintCycle, close_and_hand_off
from gateway.channels.print_folder import CLOSED, HANDED_OFF
from gateway.channels.print_handoff import HandoffError
from gateway.channels.printing import PdfPrintChannel
from tests.builders import BUYER, invoice
from tests.builders.sftp import SftpServer, sftp_server

NOW = datetime(2026, 12, 8, 17, 30, tzinfo=UTC)
DAY = NOW.date()


async def _printed(root: Path) -> None:
    await PdfPrintChannel(root).deliver(str(BUYER), "doc-1", invoice(), now=NOW)


async def _serving(tmp_path: Path) -> SftpServer:
    server = sftp_server(tmp_path)
    await server.start()
    return server


async def test_the_zip_is_uploaded_whole_under_its_name(tmp_path: Path) -> None:
    """The print house's SFTP server receives the batch ZIP in its remote folder, the same
    bytes, with no temporary file left; the batch is recorded as handed off there."""
    server = await _serving(tmp_path)
    try:
        root = tmp_path / "print"
        await _printed(root)
        done = await close_and_hand_off(root, DAY, network="alpha", house=server.house(), now=NOW)
    finally:
        await server.stop()
    assert done.batch is not None
    received = server.root / "incoming"
    assert [p.name for p in received.iterdir()] == ["alpha-2026-12-08.zip"]
    assert (received / "alpha-2026-12-08.zip").read_bytes() == done.batch.zip.read_bytes()
    assert done.handed_off_to == (
        f"sftp://printer@127.0.0.1:{server.port}/incoming/alpha-2026-12-08.zip"
    )
    assert (root / "2026-12-08" / HANDED_OFF).read_text().startswith(done.handed_off_to)


async def test_an_unknown_host_key_is_refused(tmp_path: Path) -> None:
    """A server whose host key is not the one in known_hosts (another machine answering on
    that address) gets nothing: the error says the host key is not trusted and names the
    known_hosts file."""
    server = await _serving(tmp_path)
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    forged = tmp_path / "known_hosts_other"
    forged.write_text(f"[127.0.0.1]:{server.port} {other}")
    try:
        root = tmp_path / "print"
        await _printed(root)
        with pytest.raises(HandoffError, match="host key") as caught:
            await close_and_hand_off(
                root, DAY, network="alpha", house=server.house(known_hosts=forged), now=NOW
            )
    finally:
        await server.stop()
    assert str(forged) in caught.value.message
    assert list((server.root / "incoming").iterdir()) == []
    assert not (root / "2026-12-08" / HANDED_OFF).exists()


async def test_a_key_the_server_does_not_know_is_named(tmp_path: Path) -> None:
    """When the print house does not accept our key the error names the key file and user."""
    server = await _serving(tmp_path)
    stranger = tmp_path / "stranger_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(stranger)
    try:
        root = tmp_path / "print"
        await _printed(root)
        with pytest.raises(HandoffError, match="refused our key"):
            await close_and_hand_off(
                root, DAY, network="alpha", house=server.house(key_file=stranger), now=NOW
            )
    finally:
        await server.stop()


async def test_a_server_that_is_down_is_named_and_the_batch_waits(tmp_path: Path) -> None:
    """With the print house's server down the error names its address; the batch is closed
    and kept, and the next close uploads it once the server is back."""
    server = sftp_server(tmp_path)
    root = tmp_path / "print"
    await _printed(root)
    with pytest.raises(HandoffError, match=f"127.0.0.1:{server.port}: cannot connect"):
        await close_and_hand_off(root, DAY, network="alpha", house=server.house(), now=NOW)
    assert (root / "2026-12-08" / CLOSED).exists()
    assert (root / "2026-12-08" / "alpha-2026-12-08.zip").is_file()
    await server.start()
    try:
        done = await close_and_hand_off(root, DAY, network="alpha", house=server.house(), now=NOW)
    finally:
        await server.stop()
    assert done.handed_off_to
    assert (server.root / "incoming" / "alpha-2026-12-08.zip").is_file()


async def test_the_daily_cycle_survives_a_failed_hand_off_and_retries(tmp_path: Path) -> None:
    """Past close_at, the serving gateway's cycle closes the day's batch; while the server is
    down it logs the failure and keeps running, and it hands the batch off at a later try."""
    server = sftp_server(tmp_path)
    root = tmp_path / "print"
    await _printed(root)
    house = dataclasses.replace(server.house(), close_at=time(17, 0), retry_seconds=0.05)
    cycle = PrintCycle(root, network="alpha", house=lambda: house, clock=lambda: NOW)
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(cycle.run(stop))
        async with asyncio.timeout(60):  # a hang fails this test, not the whole run
            await cycle.ran.wait()
        assert any(e["event"] == "print.close_failed" for e in logs) and not task.done()
        await server.start()
        try:
            async with asyncio.timeout(60):
                while not (root / "2026-12-08" / HANDED_OFF).exists():
                    cycle.ran.clear()
                    await cycle.ran.wait()
        finally:
            stop.set()
            await task
            await server.stop()
    failed = next(e for e in logs if e["event"] == "print.close_failed")
    assert failed["day"] == "2026-12-08" and str(server.port) in failed["error"]
    assert (server.root / "incoming" / "alpha-2026-12-08.zip").is_file()


async def test_the_cycle_leaves_today_open_before_close_at(tmp_path: Path) -> None:
    """Before close_at the day's batch is not due: it stays open for more documents."""
    root = tmp_path / "print"
    await _printed(root)
    house = dataclasses.replace(sftp_server(tmp_path).house(), close_at=time(18, 0))
    cycle = PrintCycle(root, network="alpha", house=lambda: house, clock=lambda: NOW)
    assert cycle.due_days(NOW, house) == []
    assert await cycle.run_once()
    assert not (root / "2026-12-08" / CLOSED).exists()
