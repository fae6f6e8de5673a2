"""The outbox consumer: leases due jobs and runs ``Pipeline.dispatch`` on them.

A job is leased, not removed, while it runs: if the process dies, the lease
lapses (or is released at the next start of an embedded store) and the job
runs again. Deliveries are idempotent on the far side (stable message ids,
files keyed by document id), which turns at-least-once into exactly-once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import structlog

from gateway.config.settings import DeliverySettings
from gateway.model import OutboxJob
from gateway.service.delivery import Clock
from gateway.service.pipeline import Pipeline
from gateway.store.base import Outbox

log = structlog.get_logger("gateway.worker")


class Worker:
    def __init__(self, store: Outbox, pipeline: Pipeline, *, clock: Clock) -> None:
        self.store = store
        self.pipeline = pipeline
        self.clock = clock
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    @property
    def policy(self) -> DeliverySettings:
        # Read from the pipeline each time, so a configuration reload applies.
        return self.pipeline.settings.delivery

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker.start", owner=self.owner)
        while not stop.is_set():
            # Cleared before claiming, so a wake-up during the claim is not lost.
            self._wake.clear()
            try:
                claimed = await self._claim()
            except Exception as exc:  # store down: keep the worker alive, try later
                log.error("worker.claim_failed", error=str(exc))
                claimed = 0
            if claimed == 0:
                await self._sleep(stop)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        log.info("worker.stop", owner=self.owner)

    async def _claim(self) -> int:
        free = self.policy.concurrency - len(self._running)
        if free <= 0:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            return 1
        jobs = await self.store.claim_due(
            self.clock(),
            limit=free,
            lease=timedelta(seconds=self.policy.lease_seconds),
            owner=self.owner,
        )
        for job in jobs:
            task = asyncio.create_task(self._run_one(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def _run_one(self, job: OutboxJob) -> None:
        structlog.contextvars.clear_contextvars()
        try:
            await self.pipeline.dispatch(job, owner=self.owner)
        except Exception as exc:
            # The lease will lapse and the job run again; say why it failed.
            log.exception("worker.job_crashed", job_id=job.id, error=str(exc))

    async def _sleep(self, stop: asyncio.Event) -> None:
        timeout = self.policy.poll_seconds
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
