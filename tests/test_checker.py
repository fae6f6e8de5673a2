"""Validation in a pool of processes gives the same answers as in process."""

from __future__ import annotations

import pytest

from gateway.config import LimitSettings
from gateway.errors import HostileXml, NotXml, PayloadTooLarge
from gateway.intake import Checker
from tests.conftest import invoice

LIMITS = LimitSettings(max_document_bytes=100_000)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'


async def test_pool_and_in_process_agree() -> None:
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
