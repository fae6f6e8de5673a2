"""Validation in a pool of processes gives the same answers as in process,
and a validation process that dies does not stop the gateway validating."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path

import pytest

from gateway.config.settings import LimitSettings
from gateway.errors import HostileXml, NotXml, PayloadTooLarge, ValidationUnavailable
from gateway.service.intake import Checker
from tests.conftest import invoice

LIMITS = LimitSettings(max_document_bytes=100_000)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'


async def test_pool_and_in_process_agree() -> None:
    """Validation in a process pool returns the same report, facts and problems as in process,
    and non-XML, hostile and oversize documents raise the same errors with their message."""
    local, pool = Checker(), Checker(1)
    try:
        good = invoice("INV-P-1")
        bad = good.replace(b"<cbc:IssueDate>", b"<cbc:Nope/><cbc:IssueDate>", 1)
        for body in (good, bad):
            mine, theirs = await local.check(body, LIMITS), await pool.check(body, LIMITS)
            assert theirs.report == mine.report and theirs.facts == mine.facts
            assert theirs.problems() == mine.problems()
        assert (await pool.check(good, LIMITS)).report.valid
        for body, error in (
            (b"not xml", NotXml),
            (XXE, HostileXml),
            (b" " * 200_000, PayloadTooLarge),
        ):
            with pytest.raises(error) as raised:
                await pool.check(body, LIMITS)
            assert raised.value.message  # the reason survives the trip between processes
    finally:
        local.close()
        pool.close()


def _validation_processes() -> list[int]:
    """This process's children that are pool processes (not the resource tracker)."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline:
                pids.append(int(pid))
    return pids


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def test_a_killed_validation_process_is_replaced() -> None:
    """After the pool's validation process is killed, the next document is still validated, by a
    new process."""
    pool = Checker(1)
    try:
        good = invoice("INV-K-1")
        assert (await pool.check(good, LIMITS)).report.valid
        victims = _validation_processes()
        assert victims, "the pool runs a process"
        _kill(victims)
        await asyncio.sleep(0.2)  # the pool notices its process is gone
        assert (await pool.check(good, LIMITS)).report.valid
        assert not set(victims) & set(_validation_processes())
    finally:
        pool.close()


async def test_a_document_whose_process_keeps_dying_is_refused_then_all_is_well() -> None:
    """A document whose validation process dies twice is refused with a 503 ValidationUnavailable
    ("stopped twice"), and once processes survive again documents validate."""
    pool = Checker(1)
    stop = threading.Event()

    def killer() -> None:  # every validation process dies as soon as it starts
        while not stop.is_set():
            _kill(_validation_processes())
            stop.wait(0.01)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        with pytest.raises(ValidationUnavailable, match="stopped twice") as raised:
            await pool.check(invoice("INV-K-2"), LIMITS)
        assert raised.value.http_status == 503
    finally:
        stop.set()
        thread.join()
    try:
        assert (await pool.check(invoice("INV-K-3"), LIMITS)).report.valid
    finally:
        pool.close()
