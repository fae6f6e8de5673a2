"""Messages per second through the e-mail channel to a local SMTP server.

The server is aiosmtpd's own command (``python -m aiosmtpd``, a sink that
accepts and drops every message) in its own process on loopback, so its work
is not counted against the channel's event loop. Each case delivers
``--documents`` distinct invoices (each its own PDF rendering, its own UBL
attachment) with ``--concurrency`` deliveries in flight, as the delivery
worker runs them:

* the whole channel, PDFs rendered in the loop's threads (one at a time);
* the whole channel, PDFs rendered in a pool of ``--processes`` processes;
* the SMTP leg alone: the same messages with one PDF rendered beforehand,
  which is what the connections, the composing and the server cost.

Run: .venv/bin/python -m benchmarks.email_channel [--documents 600]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

from gateway import log as log_mod
from gateway.channels import email as email_channel
from gateway.channels.base import Parcel, Recipient, Verdict
from gateway.channels.email import EmailChannel, render_attachment
from gateway.config.email import EmailSettings
from gateway.config.settings import LimitSettings
from gateway.model import Direction, DocumentKind, DocumentMeta, ParticipantId
from gateway.samples import sample_document

SELLER = ParticipantId("0088", "5730000001008")
BUYER = ParticipantId("0088", "5730000002005")
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
RECIPIENT = Recipient(id=str(BUYER), name="Maison Verlaine", email="ap@verlaine.example")


def _parcel(i: int) -> Parcel:
    business_id = f"INV-{i:06d}"
    body = sample_document(
        DocumentKind.INVOICE, seller=SELLER, buyer=BUYER, business_id=business_id
    )
    meta = DocumentMeta(
        id=f"bench-{i}",
        direction=Direction.OUTBOUND,
        kind=DocumentKind.INVOICE,
        sender=str(SELLER),
        recipient=str(BUYER),
        document_type="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##x::2.1",
        process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
        business_id=business_id,
        sha256="0" * 64,
        size=len(body),
        received_at=NOW - timedelta(minutes=1),
        seller_name="Abaque Conseil",
        issue_date="2026-12-01",
        due_date="2026-12-31",
        currency="EUR",
        payable_amount="1250.00",
    )
    return Parcel(meta=meta, payload=body, now=NOW)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Sink",
            "-l",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the SMTP server did not start")


async def _run(
    settings: EmailSettings, parcels: list[Parcel], concurrency: int, executor: Executor | None
) -> tuple[float, int]:
    channel = EmailChannel(settings, executor=executor)
    queue = iter(parcels)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for parcel in queue:
            out = await channel.deliver(parcel, RECIPIENT)
            failures += out.verdict is not Verdict.DELIVERED

    # Warm up: the fonts, the pool's processes, the connections.
    await asyncio.gather(*(channel.deliver(p, RECIPIENT) for p in parcels[:concurrency]))
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await channel.close()
    return (len(parcels) - concurrency) / elapsed, failures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.email_channel")
    ap.add_argument("--documents", type=int, default=600)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--processes", type=int, default=max(1, (os.cpu_count() or 2)))
    args = ap.parse_args(argv)
    log_mod.configure("console", "error")
    port = _free_port()
    server = _start_server(port)
    settings = EmailSettings(
        host="127.0.0.1",
        port=port,
        tls="none",
        sender="invoices@gateway.example",
        connections=args.connections,
    )
    parcels = [_parcel(i) for i in range(args.documents)]
    machine = f"{platform.machine()} {os.cpu_count()} cpu"
    try:
        rate, failed = asyncio.run(_run(settings, parcels, args.concurrency, None))
        print(
            f"email channel, PDFs in threads           {rate:7.1f} messages/s"
            f"  failed={failed}  {machine}"
        )
        with ProcessPoolExecutor(args.processes) as pool:
            rate, failed = asyncio.run(_run(settings, parcels, args.concurrency, pool))
        print(
            f"email channel, PDFs in {args.processes} processes       {rate:7.1f} messages/s"
            f"  failed={failed}  {machine}"
        )
        # The SMTP leg: one rendering reused, so only composing and sending count.
        pdf = render_attachment(parcels[0].payload, LimitSettings(), "", (), NOW)
        original = email_channel.render_attachment
        email_channel.render_attachment = lambda *_: pdf
        try:
            rate, failed = asyncio.run(_run(settings, parcels, args.concurrency, None))
        finally:
            email_channel.render_attachment = original
        print(
            f"SMTP leg alone (one PDF rendered before)  {rate:7.1f} messages/s"
            f"  failed={failed}  {machine}"
        )
        started = time.perf_counter()
        for p in parcels[:50]:
            render_attachment(p.payload, LimitSettings(), "", (), NOW)
        ms = (time.perf_counter() - started) / 50 * 1000
        print(f"render_attachment alone                   {ms:7.1f} ms/document")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
