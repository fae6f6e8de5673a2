"""/healthz while a hostile document is uploaded to a real gateway process.

1. For each variant (``[validation] processes = 0`` and the default
   ``"auto"``, plus the code before the fix with ``--before-src DIR``) and
   each hostile document (an invoice with a million attributes on one
   element, 8 MB, and one with 1.2 million elements), a fresh gateway
   process is started, the document is sent to ``POST /api/v1/documents``
   and, from the first byte sent until the answer, ``/healthz`` is asked on
   another connection, one request after the other. Reported: the /healthz
   latencies (p50, p99, max, count), the time until the document is refused
   and the peak RSS (VmHWM) of the serving process and of its validation
   process. Target (issue #9): /healthz p99 < 100 ms by default.
2. The parser's speed on ordinary invoices (the corpus examples), the code
   before the fix against the current one, in turns in one process: the
   attribute limits must not slow the common case.

    python -m benchmarks.healthz_under_load [--before-src DIR] [--rounds 5] [--parse-only]

``--before-src`` is a checkout of the code before the fix (its ``gateway``
package is run for the "before" variant and its parser timed in part 2).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import aiohttp

from gateway.cli.scaffold import gln
from gateway.config.settings import LimitSettings
from gateway.validation.parse import parse_xml
from tests.support import CORPUS, Network, make_network
from tests.validation import docs

SELLER = f"0088:{gln('5760000001')}"
EXAMPLE_LIMITS = LimitSettings(max_document_bytes=64 * 1024 * 1024)


@dataclass
class Variant:
    label: str
    processes: str | None  # the [validation] processes line; None: as `gateway init` writes it
    src: Path | None = None  # PYTHONPATH of the gateway process; None: this checkout


def hostile_documents() -> dict[str, bytes]:
    from gateway.model import DocumentKind
    from gateway.samples import sample_bytes

    elements = docs.replace_once(
        sample_bytes(DocumentKind.INVOICE), b"<cbc:Note>", b"<cbc:Note>" + b"<b/>" * 1_200_000
    )
    return {"1M attributes": docs.many_attributes(1_000_000), "1.2M elements": elements}


def _vmhwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def _validation_processes(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    out.append(int(child))
            except FileNotFoundError:
                continue
    return out


async def _upload_while_polling(net: Network, body: bytes) -> tuple[float, int, list[float]]:
    """Seconds until the answer, its status, and the /healthz latencies meanwhile."""
    head = (
        f"POST /api/v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {net.token}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    async def upload() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", net.port)
        writer.write(head + body)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer

    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        async with session.get(net.url + "/healthz") as resp:  # connect outside the timing
            await resp.read()
        start = time.perf_counter()
        task = asyncio.create_task(upload())
        while not task.done():
            asked = time.perf_counter()
            async with session.get(net.url + "/healthz") as resp:
                await resp.read()
            latencies.append(time.perf_counter() - asked)
            await asyncio.sleep(0.002)
        raw = await task
        elapsed = time.perf_counter() - start
    return elapsed, int(raw.split(b" ", 2)[1]), latencies


def _start(net: Network, src: Path | None) -> None:
    """Start the gateway, from ``src`` if given (``python -m`` puts the
    working directory first on the path, so both are set)."""
    saved, here = os.environ.get("PYTHONPATH"), Path.cwd()
    if src is not None:
        os.environ["PYTHONPATH"] = str(src)
        os.chdir(src)
    try:
        net.start()
    finally:
        os.chdir(here)
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def one_run(root: Path, variant: Variant, name: str, body: bytes) -> dict[str, float]:
    folder = root / f"{variant.label}-{name}".replace(" ", "_")
    net = make_network(folder, "n", participants=[SELLER])
    if variant.processes is not None:
        text = net.config.read_text().replace('processes = "auto"', variant.processes, 1)
        net.config.write_text(text)
    if variant.src is not None:  # keys the code before the fix does not know
        lines = net.config.read_text().splitlines()
        kept = [ln for ln in lines if not ln.startswith("environment =")]
        net.config.write_text("\n".join(kept) + "\n")
    _start(net, variant.src)
    assert net.proc is not None
    try:
        idle = _vmhwm(net.proc.pid)
        elapsed, status, latencies = asyncio.run(_upload_while_polling(net, body))
        pool = [_vmhwm(pid) for pid in _validation_processes(net.proc.pid)]
        peak = _vmhwm(net.proc.pid)
    finally:
        net.stop()
    ms = sorted(x * 1000 for x in latencies)
    return {
        "status": status,
        "refused_s": elapsed,
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))],
        "max": ms[-1],
        "n": len(ms),
        "idle_mib": idle / 2**20,
        "peak_mib": peak / 2**20,
        "pool_mib": max(pool, default=0) / 2**20,
    }


def healthz(variants: list[Variant]) -> None:
    documents = hostile_documents()
    root = Path(tempfile.mkdtemp(prefix="gw-healthz-"))
    print(f"healthz_under_load machine={machine()}")
    for name, body in documents.items():
        for variant in variants:
            r = one_run(root, variant, name, body)
            print(
                f"  {name:14} ({len(body) / 2**20:.1f} MiB) {variant.label:22} "
                f"answer={r['status']} after {r['refused_s']:.2f} s | "
                f"/healthz n={r['n']:.0f} p50={r['p50']:.1f} ms "
                f"p99={r['p99']:.1f} ms max={r['max']:.0f} ms | peak RSS serving "
                f"{r['peak_mib']:.0f} MiB (idle {r['idle_mib']:.0f}), validation process "
                f"{r['pool_mib']:.0f} MiB"
            )


def _load_parser(src: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "parse_before", src / "gateway" / "validation" / "parse.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_turns(
    examples: list[bytes], pair: dict[str, Callable[[bytes], object]], rounds: int, runs: int
) -> dict[str, list[float]]:
    """Per document, each function's median time over ``rounds`` turns."""
    medians: dict[str, list[float]] = {label: [] for label in pair}
    for data in examples:
        times: dict[str, list[float]] = {label: [] for label in pair}
        for _ in range(rounds):
            for label, run in pair.items():
                start = time.perf_counter()
                for _ in range(runs):
                    run(data)
                times[label].append((time.perf_counter() - start) / runs)
        for label, seen in times.items():
            medians[label].append(statistics.median(seen))
    return medians


def parse_speed(before_src: Path, rounds: int, folder: Path) -> None:
    """The parser, and the whole check, before and after, in turns per document."""
    from gateway.service.intake import check_document
    from gateway.validation import check_parsed
    from gateway.validation.facts import extract_facts
    from gateway.validation.parse import classify

    examples = [p.read_bytes() for p in sorted(folder.rglob("*.xml"))]
    old_parse = _load_parser(before_src).parse_xml

    def old_check(data: bytes) -> None:
        root = old_parse(data, EXAMPLE_LIMITS)
        check_parsed(root, classify(root))
        extract_facts(root)

    scanned = sum(data.count(b"=") > EXAMPLE_LIMITS.max_attributes_per_element for data in examples)
    print(
        f"{len(examples)} corpus examples ({scanned} with more '=' than "
        f"max_attributes_per_element, so scanned), {rounds} rounds in turns per document:"
    )
    for what, pair, runs in (
        (
            "parse",
            {
                "before": lambda d: old_parse(d, EXAMPLE_LIMITS),
                "after": lambda d: parse_xml(d, EXAMPLE_LIMITS),
            },
            20,
        ),
        (
            "check_document",
            {"before": old_check, "after": lambda d: check_document(d, EXAMPLE_LIMITS)},
            2,
        ),
    ):
        medians = _in_turns(examples, pair, rounds, runs)
        ratios = [a / b for a, b in zip(medians["after"], medians["before"], strict=True)]
        total = {k: sum(v) for k, v in medians.items()}
        print(
            f"  {what}: before {total['before'] * 1000:.2f} ms, after "
            f"{total['after'] * 1000:.2f} ms for all "
            f"(ratio {total['after'] / total['before']:.3f}); per document after/before: "
            f"median {statistics.median(ratios):.3f}, "
            f"max {max(ratios):.3f}"
        )


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before-src", type=Path, help="a checkout of the code before the fix")
    p.add_argument("--rounds", type=int, default=5, help="rounds of the parser comparison")
    p.add_argument("--examples", type=Path, default=CORPUS / "examples", help="ordinary invoices")
    p.add_argument("--parse-only", action="store_true", help="part 2 only")
    args = p.parse_args(argv)
    variants = [Variant("processes = 0", "processes = 0"), Variant('default ("auto")', None)]
    if args.before_src is not None:
        variants.insert(0, Variant("before the fix", "processes = 0", args.before_src))
    if not args.parse_only:
        healthz(variants)
    if args.before_src is not None:
        parse_speed(args.before_src, args.rounds, args.examples)


if __name__ == "__main__":
    main()
