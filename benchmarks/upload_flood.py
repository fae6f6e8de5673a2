"""40 concurrent 14 MB uploads against one gateway process: its peak memory
next to the configured in-flight budget, and /healthz latency meanwhile.

Starts a real `gateway serve` (embedded store) with the given
`[http] inflight_bytes`, then floods `POST /as4` (unauthenticated bytes, as
an attacker would send), `POST /api/v1/documents` with a sender's
well-formed XML that is not an invoice, and the API again with valid
invoices (an embedded attachment making them 14 MB: parsed, validated and
stored), with 40 concurrent 14 MB bodies each, while a client asks
/healthz every 50 ms (from a process of its own). The peak is the
process's VmHWM (reset once it is idle, through /proc/<pid>/clear_refs)
and the largest VmRSS sampled every 10 ms; the growth is measured from the
idle VmRSS. It runs once with the default budget and once with a budget large
enough to admit the whole flood, so both figures come from one run.

Run: .venv/bin/python -m benchmarks.upload_flood [--mb 14] [--clients 40]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gateway.cli.scaffold import gln
from gateway.config.settings import HttpSettings
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from tests.builders import attach
from tests.support import Network, make_network

SELLER, BUYER = f"0088:{gln('5760000001')}", f"0088:{gln('5760000002')}"
MIB = 1024 * 1024


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


@dataclass
class Flood:
    statuses: Counter[str] = field(default_factory=Counter)
    healthz_ms: list[float] = field(default_factory=list)
    healthz_failed: int = 0
    peak_rss: int = 0
    seconds: float = 0.0


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], flood: Flood
) -> None:
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            await resp.read()
            flood.statuses[str(resp.status)] += 1
    except aiohttp.ClientError as exc:
        # Refused before the whole body was sent: the server closed on us.
        flood.statuses[type(exc).__name__] += 1


# The probe runs in a process of its own, so that the flooding client's
# event loop does not add its own delays to the figures.
_PROBE = """
import http.client, json, sys, time
port = int(sys.argv[1])
while True:
    t0 = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
    except OSError:
        ok = False
    print(json.dumps((time.perf_counter() - t0) * 1000 if ok else -1), flush=True)
    time.sleep(0.05)
"""


async def _sample(pid: int, flood: Flood, done: asyncio.Event) -> None:
    while not done.is_set():
        flood.peak_rss = max(flood.peak_rss, _status(pid)["VmRSS"])
        await asyncio.sleep(0.01)


async def _flood(net: Network, path: str, body: bytes, clients: int) -> Flood:
    assert net.proc is not None
    flood, done = Flood(), asyncio.Event()
    if path == "/as4":
        headers = {"Content-Type": 'multipart/related; boundary="b"; type="application/soap+xml"'}
    else:
        headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {net.token}"}
        # The valid invoice is sent 40 times: each is a genuine re-send here,
        # so each is validated and stored (without the header: 409 after the first).
        headers["Allow-Duplicate"] = "true"
    timeout = aiohttp.ClientTimeout(total=600)
    probe = subprocess.Popen(  # noqa: ASYNC220 - started once, before the flood
        [sys.executable, "-c", _PROBE, str(net.port)], stdout=subprocess.PIPE, text=True
    )
    watchers = [asyncio.create_task(_sample(net.proc.pid, flood, done))]
    t0 = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=clients, force_close=True)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(
            *(_post(session, net.url + path, body, headers, flood) for _ in range(clients))
        )
    flood.seconds = time.perf_counter() - t0
    done.set()
    await asyncio.gather(*watchers)
    probe.terminate()
    out, _ = probe.communicate()
    probes = [float(line) for line in out.split()]
    flood.healthz_ms = [ms for ms in probes if ms >= 0]
    flood.healthz_failed = len(probes) - len(flood.healthz_ms)
    return flood


def _bodies(mb: int) -> list[tuple[str, bytes]]:
    size = mb * 1000 * 1000
    junk = b"--b\r\nContent-Type: application/soap+xml\r\n\r\n" + b"A" * (size - 64)
    head = (
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cbc='
        b'"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"><cbc:Note>'
    )
    xml = head + b"n" * (size - len(head) - 21) + b"</cbc:Note></Invoice>"
    invoice = sample_document(
        DocumentKind.INVOICE, seller=ParticipantId.parse(SELLER), buyer=ParticipantId.parse(BUYER)
    )
    return [
        ("/as4", junk),
        ("/api/v1/documents", xml),
        ("/api/v1/documents", attach(invoice, size)),  # valid: validated and stored
    ]


def _run(root: Path, budget: int, mb: int, clients: int) -> list[tuple[str, int, Flood]]:
    net = make_network(root, f"flood{budget // MIB}", participants=[SELLER, BUYER])
    net.append(f"[limits]\nmax_document_bytes = {(mb + 2) * MIB}")
    net.append(f"[http]\ninflight_bytes = {budget}\nmax_connections_per_address = {clients * 2}")
    net.start()
    assert net.proc is not None
    out = []
    try:
        for path, body in _bodies(mb):
            time.sleep(1)
            idle = _status(net.proc.pid)["VmRSS"]
            Path(f"/proc/{net.proc.pid}/clear_refs").write_text("5")  # resets VmHWM
            flood = asyncio.run(_flood(net, path, body, clients))
            flood.peak_rss = max(flood.peak_rss, _status(net.proc.pid)["VmHWM"])
            out.append((path, idle, flood))
    finally:
        net.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mb", type=int, default=14)
    p.add_argument("--clients", type=int, default=40)
    p.add_argument("--budget-mib", type=int, default=HttpSettings().inflight_bytes // MIB)
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="gw-flood-"))
    unbounded = (args.mb + 2) * MIB * args.clients * 2
    for budget in (args.budget_mib * MIB, unbounded):
        for i, (path, idle, f) in enumerate(_run(root, budget, args.mb, args.clients)):
            growth = f.peak_rss - idle
            lat = sorted(f.healthz_ms)
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
            print(
                f"upload_flood {path}{' (invoices)' if i == 2 else ''} "
                f"budget={budget / MIB:.0f} MiB: {args.clients} x {args.mb} MB "
                f"in {f.seconds:.1f} s, answers {dict(f.statuses)}; idle {idle / MIB:.0f} MiB, "
                f"peak {f.peak_rss / MIB:.0f} MiB, growth {growth / MIB:.0f} MiB = "
                f"{growth / budget:.2f}x budget; /healthz p50 "
                f"{statistics.median(lat) if lat else float('nan'):.1f} ms p99 {p99:.1f} ms "
                f"max {max(lat, default=float('nan')):.1f} ms ({len(lat)} probes, "
                f"{f.healthz_failed} failed); "
                f"machine={platform.machine()}"
            )


if __name__ == "__main__":
    main()
