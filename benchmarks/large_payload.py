"""A 50 MB invoice (an embedded attachment) from one gateway to another over
AS4, as separate processes: the time it takes and the peak memory (VmHWM) of
the sending and the receiving gateway, next to the payload's size.

Run: .venv/bin/python -m benchmarks.large_payload [--mb 50]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from gateway.cli.scaffold import gln
from gateway.model import DocumentKind, ParticipantId
from gateway.samples import sample_document
from tests.builders import attach
from tests.support import Network, make_network

SELLER, BUYER = f"0088:{gln('5810000001')}", f"0088:{gln('5820000001')}"


def _peak_rss(net: Network) -> int:
    assert net.proc is not None
    for line in Path(f"/proc/{net.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mb", type=int, default=50)
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="gw-large-"))
    a = make_network(root, "alpha", participants=[SELLER])
    b = make_network(root, "beta", participants=[BUYER], ca_dir=a.directory / "certs")
    a.peer_with(b)
    b.peer_with(a)
    for n in (a, b):
        n.append(f"[limits]\nmax_document_bytes = {(args.mb + 16) * 1024 * 1024}")
    body = attach(
        sample_document(
            DocumentKind.INVOICE,
            seller=ParticipantId.parse(SELLER),
            buyer=ParticipantId.parse(BUYER),
        ),
        args.mb * 1024 * 1024,
    )
    b.start()
    a.start()
    try:
        idle = (_peak_rss(a), _peak_rss(b))
        t0 = time.perf_counter()
        code, answer = a.submit(body)
        assert code == 202, answer
        final = a.wait_final(answer["id"], timeout=300)
        b.wait_inbox(1, timeout=120)
        elapsed = time.perf_counter() - t0
        assert final["status"] == "delivered", final
        peaks = (_peak_rss(a), _peak_rss(b))
    finally:
        a.stop()
        b.stop()
    size = len(body)
    for name, before, peak in (("sender", idle[0], peaks[0]), ("receiver", idle[1], peaks[1])):
        print(
            f"large_payload {name}: payload={size / 2**20:.1f} MiB peak_rss={peak / 2**20:.0f} MiB "
            f"(idle {before / 2**20:.0f} MiB) growth={(peak - before) / size:.1f}x payload "
            f"machine={platform.machine()}"
        )
    print(
        f"large_payload end to end (accept, validate, store, AS4, receive, store): {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
