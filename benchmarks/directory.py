"""Partner directory: import of 1,000,000 partners, then known-participant look-ups.

Writes a CSV of generated partners (ids of ten schemes, each with valid check
digits, in random order), then times the whole import path on the embedded
store and on Redis: reading and parsing the file, the scheme checks, the
duplicate check and the batched writes (``directory.import_file``, as
``gateway partners import`` runs it). Then 10,000 ``get_partner`` calls for
random known ids, one at a time, for p50/p99. Targets: import under 60 s,
p99 look-up under 1 ms. The Redis keys live under a unique prefix and are
deleted afterwards.

    python -m benchmarks.directory [--partners N] [--lookups N] [--store sqlite|redis|both]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from redis.asyncio import Redis

from gateway.directory.partner_files import FIELDS, import_file, read_rows
from gateway.model import DEFAULT_DOCUMENT_TYPES
from gateway.model import identifiers as ids
from gateway.store.base import Store
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore

REDIS_URL = "redis://127.0.0.1:6379/0"


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def _siren(rng: random.Random) -> str:
    body = _digits(rng, 8)
    return body + ids.luhn_digit(body)


def _no_org(rng: random.Random) -> str:
    while True:
        body = _digits(rng, 8)
        digit = ids.no_digit(body)
        if digit is not None:
            return body + digit


def _leitweg(rng: random.Random) -> str:
    grob, fein = _digits(rng, 8), f"{rng.randrange(10**6):06d}"
    return f"{grob}-{fein}-{ids.leitweg_check(grob, fein)}"


def _be(rng: random.Random) -> str:
    body = rng.choice("01") + _digits(rng, 7)
    return body + ids.be_check(body)


def _siren_then(rng: random.Random, make: Callable[[str], str]) -> str:
    return make(_siren(rng))


# One maker per scheme: a valid value, as an admin's file would have it.
MAKERS: dict[str, Callable[[random.Random], str]] = {
    "0088": lambda r: (b := _digits(r, 12)) + ids.gs1_digit(b),
    "0002": _siren,
    "0009": lambda r: (b := _siren(r) + _digits(r, 4)) + ids.luhn_digit(b),
    "0225": lambda r: _siren(r) + r.choice(["", "_facturation", "_achats"]),
    "9957": lambda r: _siren_then(r, lambda s: f"FR{ids.fr_vat_key(s)}{s}"),
    "0208": _be,
    "9925": lambda r: "BE" + _be(r),
    "0192": _no_org,
    "0007": lambda r: (b := _digits(r, 9)) + ids.luhn_digit(b),
    "0204": _leitweg,
}


def write_partners(path: Path, count: int, seed: int = 5) -> list[str]:
    """A CSV of ``count`` partners with unique ids; returns the ids as stored."""
    rng = random.Random(seed)
    schemes = list(MAKERS)
    seen: set[str] = set()
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(FIELDS)
        while len(seen) < count:
            scheme = rng.choice(schemes)
            pid = f"{scheme}:{MAKERS[scheme](rng)}"
            if pid.lower() in seen:
                continue
            seen.add(pid.lower())
            out.writerow(_row(rng, pid, len(seen)))
    return list(seen)


def _row(rng: random.Random, pid: str, n: int) -> list[str]:
    reception = rng.choices(["network", "email", "portal", "paper"], [85, 5, 5, 5])[0]
    doctypes = DEFAULT_DOCUMENT_TYPES[0] if rng.random() < 0.1 else ""
    return [
        pid,
        f"Company {n} SA",
        rng.choice(["ours", "north", "south", ""]),
        doctypes,
        reception,
        f"ap{n}@example.com" if reception == "email" else "",
        f"{n} Rue de la Paix;75002 Paris",
        rng.choice(["FR", "BE", "NO", "SE", "DE"]),
    ]


async def _measure(store: Store, csv_path: Path, known: list[str], lookups: int) -> str:
    t0 = time.perf_counter()
    report = await import_file(store, csv_path)
    import_s = time.perf_counter() - t0
    assert not report.bad, report.bad[:3]
    assert await store.count_partners() == len(known)
    rng = random.Random(7)
    sample = [rng.choice(known) for _ in range(lookups)]
    latencies = []
    for pid in sample:
        t = time.perf_counter()
        found = await store.get_partner(pid)
        latencies.append(time.perf_counter() - t)
        assert found is not None
    q = statistics.quantiles(latencies, n=100)
    return (
        f"partners={report.written} import={import_s:.1f}s "
        f"({report.written / import_s:,.0f}/s) lookups={lookups} "
        f"p50={q[49] * 1e6:.0f}us p99={q[98] * 1e6:.0f}us"
    )


async def _drop(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.unlink(*keys)  # freed in the background: no stall for others
    finally:
        await client.aclose()


async def _run(kind: str, directory: Path, csv_path: Path, known: list[str], n: int) -> str:
    prefix = f"bench-dir-{uuid.uuid4().hex[:8]}"
    store: Store = (
        SqliteStore(directory / "store.db")
        if kind == "sqlite"
        else RedisStore(REDIS_URL, prefix=prefix)
    )
    await store.open()
    try:
        return await _measure(store, csv_path, known, n)
    finally:
        await store.close()
        if kind == "redis":
            await _drop(prefix)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--partners", type=int, default=1_000_000)
    p.add_argument("--lookups", type=int, default=10_000)
    p.add_argument("--store", choices=["sqlite", "redis", "both"], default="both")
    args = p.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="gw-bench-dir-"))
    try:
        csv_path = directory / "partners.csv"
        t0 = time.perf_counter()
        known = write_partners(csv_path, args.partners)
        made = time.perf_counter() - t0
        size = csv_path.stat().st_size / 1e6
        print(f"generated {len(known):,} partners ({size:.0f} MB CSV) in {made:.1f}s (not timed)")
        t0 = time.perf_counter()
        parsed = sum(1 for _ in read_rows(csv_path))
        print(f"parse and checks alone: {parsed:,} rows in {time.perf_counter() - t0:.1f}s")
        kinds = ["sqlite", "redis"] if args.store == "both" else [args.store]
        machine = f"machine={platform.machine()} cpus={os.cpu_count()}"
        for kind in kinds:
            line = asyncio.run(_run(kind, directory, csv_path, known, args.lookups))
            print(f"directory store={kind} {line} {machine} python={platform.python_version()}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
