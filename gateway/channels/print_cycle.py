"""The daily print cycle: close the day's batch and hand it to the print house.

``close_and_hand_off`` is what ``gateway print close`` runs; ``PrintCycle.run``
is the background task of ``gateway serve`` when ``[print_house] close_at``
is set. At each close time it closes and hands off every day of the last
CATCH_UP_DAYS that is not handed off yet (today once close_at has passed), so
a failed hand-off or a day the gateway was down is done at the next try. A
failure is logged and retried after ``retry_seconds``; it never stops the
gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import structlog

from gateway.channels.print_batch import Batch, close_batch, open_days
from gateway.channels.print_handoff import hand_off
from gateway.config.print_house import PrintHouseSettings
from gateway.errors import GatewayError

log = structlog.get_logger("gateway.print")

CATCH_UP_DAYS = 7  # older batches never handed off are left to an admin


@dataclass(frozen=True)
class Closed:
    batch: Batch | None  # None: the day had no document
    handed_off_to: str  # "" when not handed off (no print house, or done before)
    handed_off_before: str  # where an earlier close handed it off ("" if not)


async def close_and_hand_off(
    root: Path, day: date, *, network: str, house: PrintHouseSettings, now: datetime
) -> Closed:
    """Close ``day``'s batch and hand it off (unless it was already).
    Raises BatchError or HandoffError; a closed batch stays closed either way."""
    batch = await asyncio.to_thread(close_batch, root, day, network=network, now=now)
    if batch is None:
        return Closed(None, "", "")
    before = batch.handed_off
    if before or house.handoff == "none":
        return Closed(batch, "", before)
    return Closed(batch, await hand_off(batch, house, now=now), "")


class PrintCycle:
    def __init__(
        self,
        root: Path,
        *,
        network: str,
        house: Callable[[], PrintHouseSettings],
        clock: Callable[[], datetime],
    ) -> None:
        self.root = root
        self.network = network
        self.house = house  # read at each run: a reloaded configuration applies
        self.clock = clock
        self.ran = asyncio.Event()  # set after each try: whoever waits for one clears it

    def due_days(self, now: datetime, house: PrintHouseSettings) -> list[date]:
        assert house.close_at is not None
        today = now.date()
        last = today if now.time() >= house.close_at else today - timedelta(days=1)
        return open_days(self.root, until=last, since=today - timedelta(days=CATCH_UP_DAYS))

    async def run_once(self) -> bool:
        """Close and hand off what is due; False if any day failed."""
        house = self.house()
        ok = True
        for day in self.due_days(self.clock(), house):
            try:
                done = await close_and_hand_off(
                    self.root, day, network=self.network, house=house, now=self.clock()
                )
            except GatewayError as exc:
                log.error("print.close_failed", day=day.isoformat(), error=exc.message)
                ok = False
                continue
            if done.batch is not None:
                log.info(
                    "print.closed",
                    batch=done.batch.name,
                    documents=done.batch.documents,
                    handed_off=done.handed_off_to or done.handed_off_before or "no",
                )
        return ok

    def _wait(self, ok: bool, house: PrintHouseSettings) -> float:
        """Seconds until the next try: the retry delay after a failure, else the next close_at."""
        if not ok:
            return house.retry_seconds
        assert house.close_at is not None
        now = self.clock()
        at = datetime.combine(now.date(), house.close_at, tzinfo=now.tzinfo)
        if at <= now:
            at += timedelta(days=1)
        return (at - now).total_seconds()

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: close and hand off at each close time."""
        while not stop.is_set():
            house = self.house()
            if house.close_at is None:  # switched off by a reload: look again later
                wait = house.retry_seconds
            else:
                try:
                    ok = await self.run_once()
                except Exception:  # a bug here must not stop the gateway
                    log.exception("print.cycle_error")
                    ok = False
                wait = self._wait(ok, house)
                self.ran.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
