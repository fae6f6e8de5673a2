"""A serving gateway closes and hands off the day's print batch at [print_house]
close_at on its own (issue #11), beside its delivery worker, and stops cleanly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gateway.channels.printing import PdfPrintChannel
from gateway.config import loader
from gateway.server.app import running
from tests.builders import BUYER, invoice, network_config


async def test_serve_closes_and_hands_off_the_days_batch_at_close_at(tmp_path: Path) -> None:
    """With close_at passed (00:00), a starting gateway closes today's batch and copies its
    ZIP into the print house's folder while it serves; stopping it leaves nothing running."""
    config = network_config(tmp_path).config
    out = config.parent / "handoff"
    out.mkdir()
    config.write_text(
        config.read_text()
        + '\n[print_house]\nhandoff = "folder"\nfolder = "handoff"\nclose_at = "00:00"\n'
    )
    now = datetime.now(UTC)
    done = await PdfPrintChannel(config.parent / "print").deliver(
        str(BUYER), "doc-1", invoice(), now=now
    )
    expected = out / f"testnet-{done.batch}.zip"
    tasks_before = len(asyncio.all_tasks())
    async with running(loader.load(config)) as gw:
        assert gw.print_cycle is not None
        async with asyncio.timeout(60):  # a hang fails this test, not the whole run
            await gw.print_cycle.ran.wait()
        assert expected.is_file()
    assert (config.parent / "print" / done.batch / "handed-off").exists()
    assert len(asyncio.all_tasks()) == tasks_before
