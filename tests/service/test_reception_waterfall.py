"""The reception waterfall: a document for one of our participants goes to
the channel of each of its reception modes in turn, through the real
pipeline, worker and SQLite store, with in-memory channels."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.channels.base import MemoryChannel, Outcome, Parcel, Recipient
from gateway.server.app import Gateway
from tests.builders import BUYER, Api, invoice, serve_api, set_delivery, set_participant


@dataclass
class Harness:
    api: Api
    channels: dict[str, MemoryChannel] = field(default_factory=dict)

    @property
    def gw(self) -> Gateway:
        return self.api.gw

    @property
    def client(self) -> TestClient[Any, Any]:
        return self.api.client

    async def send(self, body: bytes) -> dict[str, Any]:
        """Submit ``body`` and wait for its final state; the status view."""
        return await self.api.send_and_wait(body)


@dataclass
class MemoryExporter:
    exported: list[str] = field(default_factory=list)

    async def export(self, parcel: Parcel, recipient: Recipient) -> Outcome:
        self.exported.append(parcel.meta.id)
        return Outcome.delivered("exported", {"files": [f"{parcel.meta.id}.xml"]})


@pytest.fixture
def waterfall_config(network_dir: tuple[Path, str]) -> tuple[Path, str]:
    cfg, token = network_dir
    set_delivery(cfg, initial_backoff_seconds=0.05, max_backoff_seconds=0.1, poll_seconds=0.02)
    return cfg, token


@contextlib.asynccontextmanager
async def _harness(
    cfg: Path, token: str, scripts: dict[str, Sequence[Outcome]]
) -> AsyncIterator[Harness]:
    async with serve_api(cfg, token) as api:
        h = Harness(api)
        for mode in ("network", "api", "email", "portal", "paper"):
            h.channels[mode] = MemoryChannel(mode, list(scripts.get(mode, ())))
        api.gw.pipeline.delivery.channels = dict(h.channels)
        yield h


def _states(status: dict[str, Any]) -> list[str]:
    return [e["state"] for e in status["history"]]


async def test_a_refusing_channel_falls_back_to_the_next_mode_with_its_reason(
    waterfall_config: tuple[Path, str],
) -> None:
    """A recipient with reception ["email", "api", "paper"] whose e-mail channel refuses is
    delivered by its inbox API in the same attempt; the history shows the fallback with
    the e-mail channel's reason, and paper is never tried."""
    cfg, token = waterfall_config
    set_participant(cfg, BUYER, reception=["email", "api", "paper"])
    scripts = {"email": [Outcome.refused("no e-mail address for this recipient")]}
    async with _harness(cfg, token, scripts) as h:
        status = await h.send(invoice("WF-1"))
        assert _states(status) == ["received", "routed", "fallback", "delivered"]
        fallback, delivered = status["history"][2], status["history"][3]
        assert fallback["reason"] == (
            "email could not take it: no e-mail address for this recipient; trying api"
        )
        assert delivered["details"]["channel"] == "api"
        assert "email then api then paper" in status["history"][1]["reason"]
        assert len(h.channels["paper"].received) == 0
        parcel, recipient = h.channels["api"].received[0]
        assert recipient.id == str(BUYER) and recipient.source == "configuration"
        assert parcel.meta.business_id == "WF-1"


async def test_a_channel_asking_to_retry_is_tried_again_later_and_not_skipped(
    waterfall_config: tuple[Path, str],
) -> None:
    """A channel that asks to retry (an SMTP server down) keeps the document on that channel:
    the attempt fails with the channel's reason, and the next attempt delivers by the same
    channel, not by the next mode."""
    cfg, token = waterfall_config
    set_participant(cfg, BUYER, reception=["email", "paper"])
    down = Outcome.retry("the SMTP server did not answer")
    scripts = {"email": [down, Outcome.delivered("sent to ap@buyer.example")]}
    async with _harness(cfg, token, scripts) as h:
        status = await h.send(invoice("WF-2"))
        assert _states(status) == ["received", "routed", "attempt_failed", "delivered"]
        assert "email: the SMTP server did not answer" in status["history"][2]["reason"]
        assert status["history"][3]["reason"] == "sent to ap@buyer.example"
        assert len(h.channels["email"].received) == 2
        assert h.channels["paper"].received == []


async def test_a_channel_that_refused_is_not_asked_again_on_a_later_attempt(
    waterfall_config: tuple[Path, str],
) -> None:
    """When the mode after a refusing channel asks to retry, the later attempt starts at that
    mode: the channel that refused (an unknown mailbox) is not sent the document twice."""
    cfg, token = waterfall_config
    set_participant(cfg, BUYER, reception=["email", "portal"])
    scripts = {
        "email": [Outcome.refused("550 no such mailbox")],
        "portal": [Outcome.retry("busy"), Outcome.delivered("in its portal inbox")],
    }
    async with _harness(cfg, token, scripts) as h:
        status = await h.send(invoice("WF-3"))
        assert _states(status) == [
            "received",
            "routed",
            "fallback",
            "attempt_failed",
            "delivered",
        ]
        assert len(h.channels["email"].received) == 1
        assert len(h.channels["portal"].received) == 2


async def test_when_every_mode_refuses_the_document_fails_with_each_reason(
    waterfall_config: tuple[Path, str],
) -> None:
    """A document that no chosen channel can take ends `failed` (not `delivered`), with each
    channel's reason, and is counted as failed in the metrics."""
    cfg, token = waterfall_config
    set_participant(cfg, BUYER, reception=["email", "api"])
    scripts = {
        "email": [Outcome.refused("no e-mail address")],
        "api": [Outcome.refused("no inbox account")],
    }
    async with _harness(cfg, token, scripts) as h:
        status = await h.send(invoice("WF-4"))
        assert _states(status) == ["received", "routed", "fallback", "fallback", "failed"]
        last = status["history"][-1]
        assert last["reason"] == (
            "no reception channel could take it: email: no e-mail address; api: no inbox account"
        )
        metrics = await (await h.client.get("/metrics")).text()
        assert 'gateway_documents_failed_total{route="local"} 1.0' in metrics
        assert "gateway_documents_delivered_total{" not in metrics


async def test_a_mode_this_gateway_does_not_offer_is_skipped_with_the_reason(
    waterfall_config: tuple[Path, str],
) -> None:
    """A recipient that chose e-mail on a gateway with no e-mail channel set up gets its next
    mode, and the history says e-mail is not set up here."""
    cfg, token = waterfall_config
    set_participant(cfg, BUYER, reception=["email", "network"])
    async with _harness(cfg, token, {}) as h:
        del h.gw.pipeline.delivery.channels["email"]
        status = await h.send(invoice("WF-5"))
        assert _states(status) == ["received", "routed", "fallback", "delivered"]
        assert "email delivery is not set up on this gateway" in status["history"][2]["reason"]


async def test_the_accounting_export_runs_before_the_channel_and_is_recorded(
    waterfall_config: tuple[Path, str], tmp_path: Path
) -> None:
    """A participant with an export folder has each document exported before delivery, and the
    delivered event names the exported files; a participant without one is not exported."""
    cfg, token = waterfall_config
    set_participant(cfg, BUYER, reception="api", export_dir=tmp_path / "export")
    async with _harness(cfg, token, {}) as h:
        exporter = MemoryExporter()
        h.gw.pipeline.delivery.exporter = exporter
        status = await h.send(invoice("WF-6"))
        assert _states(status)[-1] == "delivered"
        assert exporter.exported == [status["id"]]
        assert status["history"][-1]["details"]["export"] == {"files": [f"{status['id']}.xml"]}
