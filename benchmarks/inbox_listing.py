"""Inbox and sender listing latency with 100,000 documents in the store.

Writes a gateway configuration (`gateway init`), fills its store, embedded
or Redis, with 100,000 documents (80% addressed to the participant whose
inbox is read, the rest to three others; every one submitted by the
gateway's sender; states mostly delivered, some retrieved, failed or
received), adds a recipient account, starts `gateway serve`, then asks one
request at a time over HTTP on loopback, so each figure is a whole request's
latency end to end (HTTP, authentication, store, JSON):

* inbox first page (50), inbox pages 2.. by cursor, inbox filtered by a rare
  state (failed, 1%), inbox since a recent time, sender listing first page.

Reports p50 and p99 per kind and over all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from gateway.cli.scaffold import gln
from gateway.config import loader
from gateway.config.settings import Settings, hash_token
from gateway.model import (
    Direction,
    DocumentKind,
    DocumentMeta,
    ParticipantId,
    RecipientAccount,
    State,
    StatusEvent,
)
from gateway.samples import sample_document
from gateway.store.base import Store
from gateway.store.factory import sqlite_file
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SELLER = ParticipantId("0088", gln("5750000001"))
BUYER = ParticipantId("0088", gln("5750000002"))
OTHERS = [str(ParticipantId("0088", gln(f"575000001{n}"))) for n in range(3)]
TOKEN = "rcp_bench_" + "x" * 40


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _init(directory: Path, store: str, port: int) -> Path:
    args = [sys.executable, "-m", "gateway", "init", str(directory), "--name", "bench"]
    args += ["--port", str(port), "--participant", str(SELLER), "--participant", str(BUYER)]
    if store == "redis":
        args += ["--store", REDIS_URL]
    subprocess.run(args, check=True, capture_output=True)
    cfg = directory / "gateway.toml"
    text = cfg.read_text().replace('level = "info"', 'level = "warning"')
    if store == "redis":
        text = text.replace("[store]\n", f'[store]\nprefix = "bench{uuid.uuid4().hex[:8]}"\n')
    cfg.write_text(text)
    return cfg


def _state(n: int) -> list[State]:
    """Mostly delivered; 10% retrieved, 1% failed, 1% still received."""
    if n % 100 == 0:
        return [State.RECEIVED, State.ROUTED, State.FAILED]
    if n % 100 == 1:
        return [State.RECEIVED]
    if n % 10 == 2:
        return [State.RECEIVED, State.ROUTED, State.DELIVERED, State.RETRIEVED]
    return [State.RECEIVED, State.ROUTED, State.DELIVERED]


async def _fill(store: Store, count: int, sender: str, body: bytes) -> None:
    digest = hashlib.sha256(body).hexdigest()

    async def one(n: int) -> None:
        at = T0 + timedelta(seconds=30 * n)
        recipient = str(BUYER) if n % 5 else OTHERS[n % 3]
        meta = DocumentMeta(
            id=str(uuid.uuid4()),
            direction=Direction.OUTBOUND,
            kind=DocumentKind.INVOICE,
            sender=str(SELLER),
            recipient=recipient,
            document_type="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice",
            process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
            business_id=f"INV-{n}",
            sha256=digest,
            size=len(body),
            received_at=at,
            origin=sender,
            seller_name="Bench Seller",
            issue_date="2026-01-01",
            due_date="2026-02-01",
            currency="EUR",
            payable_amount="100.00",
        )
        events = [StatusEvent(s, at, s.value) for s in _state(n)]
        await store.accept(meta, body, events)

    batch = 500
    for start in range(0, count, batch):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + batch))))
    account = RecipientAccount("bench", hash_token(TOKEN), (str(BUYER),), datetime.now(UTC))
    await store.add_recipient_account(account)


def _open(cfg: Path) -> Store:
    settings = loader.load(cfg)
    path = sqlite_file(settings.store.url)
    if path is None:
        return RedisStore(settings.store.url, prefix=settings.store.prefix)
    # Filling only: the gateway later opens the file with its configured sync.
    return SqliteStore(path, sync="normal")


async def _measure(url: str, sender_token: str, count: int, rounds: int) -> dict[str, list[float]]:
    inbox = {"Authorization": f"Bearer {TOKEN}"}
    sender = {"Authorization": f"Bearer {sender_token}"}
    recent = (T0 + timedelta(seconds=30 * (count - 2_000))).isoformat().replace("+00:00", "Z")
    kinds: dict[str, list[float]] = {k: [] for k in ("first", "cursor", "state", "since", "sender")}
    async with aiohttp.ClientSession() as session:

        async def get(kind: str | None, path: str, headers: dict[str, str]) -> dict[str, object]:
            t0 = time.perf_counter()
            async with session.get(url + path, headers=headers) as resp:
                body: dict[str, object] = await resp.json()
                assert resp.status == 200, body
            if kind is not None:
                kinds[kind].append(time.perf_counter() - t0)
            return body

        for _ in range(20):  # warm-up: connections, caches
            await get(None, "/api/v1/inbox", inbox)
        for _ in range(rounds):
            page = await get("first", "/api/v1/inbox", inbox)
            for _ in range(4):
                page = await get("cursor", f"/api/v1/inbox?cursor={page['next_cursor']}", inbox)
            await get("state", "/api/v1/inbox?state=failed", inbox)
            await get("since", f"/api/v1/inbox?since={recent}", inbox)
            await get("sender", "/api/v1/documents", sender)
    return kinds


def _wait(port: int) -> None:
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the gateway did not listen on port {port}")


def _ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


@dataclass
class Served:
    """A `gateway serve` process on a store filled beforehand."""

    directory: Path
    port: int
    settings: Settings
    fill_seconds: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def served(store_kind: str, documents: int, *, prefix: str) -> Iterator[Served]:
    """A new network on ``store_kind`` holding ``documents`` (see ``_fill``),
    served by its own process; everything is removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    port = _port()
    cfg = _init(directory, store_kind, port)
    settings = loader.load(cfg)
    body = sample_document(DocumentKind.INVOICE, seller=SELLER, buyer=BUYER)
    store = _open(cfg)
    proc = None
    try:

        async def fill() -> float:
            await store.open()
            t0 = time.perf_counter()
            try:
                await _fill(store, documents, settings.senders[0].name, body)
            finally:
                await store.close()
            return time.perf_counter() - t0

        filled = asyncio.run(fill())
        log = open(directory / "gateway.log", "wb")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(cfg)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait(port)
        yield Served(directory, port, settings, filled)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if store_kind == "redis":
            asyncio.run(_drop(cfg))
        shutil.rmtree(directory, ignore_errors=True)


def summary(name: str, kinds: dict[str, list[float]], facts: str) -> str:
    """One line: p50 and p99 over every request, then per kind."""
    every = [v for values in kinds.values() for v in values]
    parts = " ".join(f"{k}:p50={_ms(v, 50):.1f}ms,p99={_ms(v, 99):.1f}ms" for k, v in kinds.items())
    return (
        f"{name} {facts} requests={len(every)} p50={_ms(every, 50):.1f}ms "
        f"p99={_ms(every, 99):.1f}ms {parts} machine={platform.machine()} cpus={os.cpu_count()}"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--store", choices=["sqlite", "redis"], default="sqlite")
    p.add_argument("--documents", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=300, help="rounds of the 8 requests")
    args = p.parse_args(argv)
    with served(args.store, args.documents, prefix="gw-bench-inbox-") as gw:
        sender_token = (gw.directory / "sender.token").read_text().strip()
        kinds = asyncio.run(_measure(gw.url, sender_token, args.documents, args.rounds))
        filled = gw.fill_seconds
    facts = f"store={args.store} documents={args.documents} fill={filled:.0f}s"
    print(summary("inbox_listing", kinds, facts))


async def _drop(cfg: Path) -> None:
    from redis.asyncio import Redis

    prefix = loader.load(cfg).store.prefix
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=5000)]
        for start in range(0, len(keys), 5000):
            await client.delete(*keys[start : start + 5000])
    finally:
        await client.aclose()


if __name__ == "__main__":
    main()
