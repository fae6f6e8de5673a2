"""Documents accepted per second through POST /api/v1/documents.

Starts one gateway process (`gateway serve`) on loopback with the embedded
store or Redis, then 64 concurrent clients post valid invoices for a fixed
time. Reports throughput and p50/p99 latency of the 202 answers. The worker
delivers the documents to the recipient's inbox meanwhile, as in production.
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
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document

WORKERS = 1
VALIDATORS = 0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _drop_redis_prefix(cfg: Path) -> None:
    import tomllib

    import redis

    prefix = tomllib.loads(cfg.read_text())["store"]["prefix"]
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()


def _start(directory: Path, store: str) -> tuple[subprocess.Popen[bytes], str, str, bytes]:
    port = _port()
    seller, buyer = (
        ParticipantId("0088", gln("5740000001")),
        ParticipantId("0088", gln("5740000002")),
    )
    args = [
        sys.executable,
        "-m",
        "gateway",
        "init",
        str(directory),
        "--name",
        "bench",
        "--port",
        str(port),
        "--participant",
        str(seller),
        "--participant",
        str(buyer),
    ]
    if store == "redis":
        args += ["--store", "redis://127.0.0.1:6379/0"]
    subprocess.run(args, check=True, capture_output=True)
    cfg = directory / "gateway.toml"
    text = cfg.read_text()
    if store == "redis":
        text = text.replace("[store]\n", f'[store]\nprefix = "bench{uuid.uuid4().hex[:8]}"\n')
    cfg.write_text(
        text.replace('format = "auto"', 'format = "json"')
        .replace('level = "info"', 'level = "warning"')
        .replace("processes = 0", f"processes = {VALIDATORS}", 1)
    )
    log = open(directory / "gateway.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--config", str(cfg), "--workers", str(WORKERS)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    token = (directory / "sender.token").read_text().strip()
    body = sample_document(DocumentKind.INVOICE, seller=seller, buyer=buyer)
    return proc, url, token, body


async def _load(
    url: str, token: str, body: bytes, clients: int, seconds: float
) -> tuple[list[float], int]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/xml",
        "Allow-Duplicate": "true",  # one body sent again and again, on purpose
    }
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with session.post(url + "/api/v1/documents", data=body, headers=headers) as r:
                    await r.read()
                    if r.status != 202:
                        errors += 1
                        continue
                latencies.append(time.perf_counter() - t0)

        # Warm-up so schema compilation and connection set-up are not measured.
        async with session.post(url + "/api/v1/documents", data=body, headers=headers) as r:
            await r.read()
        await asyncio.gather(*[client() for _ in range(clients)])
    return latencies, errors


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--store", choices=["sqlite", "redis"], default="sqlite")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10.0)
    _wrk.add_options(p)
    args = p.parse_args(argv)
    client = _wrk.client(args)
    global WORKERS, VALIDATORS
    WORKERS = args.workers
    VALIDATORS = args.validation_processes
    directory = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    proc, url, token, body = _start(directory, args.store)
    try:
        if client == "wrk":
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/xml",
                "Allow-Duplicate": "true",  # one body sent again and again, on purpose
            }
            asyncio.run(_load(url, token, body, 1, 0.5))  # warm-up: schemas, rules
            f = _wrk.run(
                url + "/api/v1/documents",
                [(headers, body)],
                connections=args.clients,
                seconds=args.seconds,
                cycle=True,
            )
        else:
            t0 = time.perf_counter()
            lat, errors = asyncio.run(_load(url, token, body, args.clients, args.seconds))
            elapsed = time.perf_counter() - t0
            lat.sort()
            q = statistics.quantiles(lat, n=100) if len(lat) > 100 else [float("nan")] * 99
            f = _wrk.Figures(len(lat), elapsed, errors, q[49] * 1000, q[98] * 1000)
    finally:
        proc.terminate()
        proc.wait(30)
        if args.store == "redis":
            _drop_redis_prefix(directory / "gateway.toml")
        shutil.rmtree(directory, ignore_errors=True)
    print(
        f"api_accept store={args.store} client={client} clients={args.clients} "
        f"docs={f.requests} errors={f.errors} rate={f.rate:.0f}/s p50={f.p50_ms:.1f}ms "
        f"p99={f.p99_ms:.1f}ms body={len(body)}B workers={WORKERS} validators={VALIDATORS} "
        f"machine={platform.machine()} cpus={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
