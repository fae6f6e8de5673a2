"""One gateway receiving AS4 messages from 32 concurrent senders on loopback.

Starts a receiving gateway (`gateway serve`, embedded store) as its own
process, with a peer network whose identity this benchmark uses to build
signed and encrypted AS4 messages (a 7.9 KB BIS 3 invoice each, built
before timing so the senders cost little CPU). Then 32 concurrent clients
post them. Every 200 means: MIME parsed, decrypted, signature verified,
decompressed, validated (XSD and the native rules), stored durably with its
delivery job, and answered with a signed receipt. The worker delivers each
document to the recipient's inbox meanwhile, as in production.

Run: .venv/bin/python -m benchmarks.as4_throughput [--messages 3000] [--senders 32]
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path

import aiohttp

from benchmarks import _wrk
from gateway.cli.scaffold import gln
from gateway.config import loader
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from gateway.transport.as4_client import As4Transport
from gateway.transport.base import OutboundMessage

SELLER = ParticipantId("0088", gln("5750000001"))
BUYER = ParticipantId("0088", gln("5750000002"))


WORKERS = 1
VALIDATORS = 0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "gateway", *args], check=True, capture_output=True)
    return out.stdout.decode()


def _networks(root: Path) -> tuple[Path, Path, int]:
    port = _port()
    alpha, beta = root / "alpha", root / "beta"
    _cli(
        "init", str(alpha), "--name", "alpha", "--port", str(_port()), "--participant", str(SELLER)
    )
    _cli(
        "init",
        str(beta),
        "--name",
        "beta",
        "--port",
        str(port),
        "--participant",
        str(BUYER),
        "--ca",
        str(alpha / "certs"),
    )
    (root / "alpha.json").write_text(
        _cli("info", "--config", str(alpha / "gateway.toml"), "--json")
    )
    (root / "beta.json").write_text(_cli("info", "--config", str(beta / "gateway.toml"), "--json"))
    _cli(
        "agreements",
        "add",
        "--config",
        str(alpha / "gateway.toml"),
        "--peer-info",
        str(root / "beta.json"),
    )
    _cli(
        "agreements",
        "add",
        "--config",
        str(beta / "gateway.toml"),
        "--peer-info",
        str(root / "alpha.json"),
    )
    cfg = beta / "gateway.toml"
    cfg.write_text(
        cfg.read_text()
        .replace('level = "info"', 'level = "warning"')
        .replace('format = "auto"', 'format = "json"')
        .replace("processes = 0", f"processes = {VALIDATORS}", 1)
    )
    return alpha / "gateway.toml", cfg, port


async def _build(alpha_cfg: Path, n: int) -> list[tuple[dict[str, str], bytes]]:
    settings = loader.load(alpha_cfg)
    peer = settings.peers[0]
    transport = As4Transport(settings)
    cert = transport._peer_certificate(peer)
    body = sample_document(DocumentKind.INVOICE, seller=SELLER, buyer=BUYER)
    out = []
    for i in range(n):
        msg = OutboundMessage(
            message_id=f"{uuid.uuid4()}@bench",
            document_id=str(i),
            sender=str(SELLER),
            recipient=str(BUYER),
            document_type="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
            "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1",
            process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
            payload=body,
        )
        req = await transport._build(peer, cert, msg)
        out.append(({**req.headers, "Content-Length": str(req.size)}, req.body()))
    await transport.close()
    return out


async def _send(
    url: str, requests: list[tuple[dict[str, str], bytes]], senders: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(requests))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=senders)) as session:

        async def sender() -> None:
            nonlocal errors
            while queue:
                headers, body = queue.pop()
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
                latencies.append(time.perf_counter() - t0)
                errors += not ok

        headers, body = requests[0]  # warm-up: schemas, rules, first connection
        async with session.post(url, data=body, headers=headers) as r:
            await r.read()
        queue.pop()
        start = time.perf_counter()
        await asyncio.gather(*[sender() for _ in range(senders)])
        return latencies, errors, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--messages", type=int, default=4000)
    p.add_argument("--senders", type=int, default=32)
    _wrk.add_options(p)
    args = p.parse_args(argv)
    client = _wrk.client(args)
    global WORKERS, VALIDATORS
    WORKERS = args.workers
    VALIDATORS = args.validation_processes
    root = Path(tempfile.mkdtemp(prefix="gw-as4-bench-"))
    alpha_cfg, beta_cfg, port = _networks(root)
    requests = asyncio.run(_build(alpha_cfg, args.messages + 1))
    log = open(root / "beta.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--config",
            str(beta_cfg),
            "--workers",
            str(WORKERS),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/as4"
        if client == "wrk":
            asyncio.run(_send(url, requests[:2], 1))  # warm-up: schemas, rules, connection
            # Timed, not run to the end: wrk's clock would count an idle tail.
            f = _wrk.run(url, requests[2:], connections=args.senders, seconds=8, cycle=True)
            if f.requests > len(requests) - 2:
                raise SystemExit("every message was sent before the time was up: raise --messages")
        else:
            lat, errors, elapsed = asyncio.run(_send(url, requests, args.senders))
            q = statistics.quantiles(sorted(lat), n=100)
            f = _wrk.Figures(len(lat), elapsed, errors, q[49] * 1000, q[98] * 1000)
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"as4_throughput client={client} senders={args.senders} messages={f.requests} "
        f"errors={f.errors} rate={f.rate:.0f}/s p50={f.p50_ms:.1f}ms p99={f.p99_ms:.1f}ms "
        f"workers={WORKERS} validators={VALIDATORS} "
        f"machine={platform.machine()} cpus={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
