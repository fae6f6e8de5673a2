"""Head-of-line blocking: how long deliveries to our own participants wait
while a peer network accepts TCP and never answers.

One gateway in process, `concurrency = 4`, `timeout_seconds = 5`. Three cases
in one run: no black hole; a black hole with `per_peer_concurrency` equal to
`concurrency` and a breaker that never opens (what the gateway did before the
per-peer gate); a black hole with `per_peer_concurrency = 2`. In the last two,
8 documents to the black hole are submitted first, then 20 to the local inbox.
The figure is acceptance-to-delivery time of the local documents, from their
status history. Run: .venv/bin/python -m benchmarks.black_hole
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from gateway import log as log_mod
from gateway.cli.scaffold import gln, init_network
from gateway.config import loader
from gateway.model import DocumentKind, ParticipantId, State
from gateway.samples import sample_document
from gateway.server.app import running

SELLER = ParticipantId("0088", gln("5930000001"))
BUYER = ParticipantId("0088", gln("5930000002"))
FAR = ParticipantId("0088", gln("5930000099"))
HOLE_DOCS, LOCAL_DOCS = 8, 20


class Hole:
    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)  # read nothing, answer nothing

        self.server = await asyncio.start_server(hold, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        for w in self.writers:
            w.close()
        self.server.close()


def _config(root: Path, port: int, per_peer: int, failures: int) -> Path:
    made = init_network(
        root, name="bench", port=8080, participants=[SELLER, BUYER], now=datetime.now(UTC)
    )
    text = made.config.read_text().replace(
        "[delivery]",
        f"[delivery]\nper_peer_concurrency = {per_peer}\nbreaker_failures = {failures}\n"
        "poll_seconds = 0.05\n",
    )
    text = text.replace("concurrency = 8", "concurrency = 4").replace(
        "timeout_seconds = 30", "timeout_seconds = 5"
    )
    text += f"""
[[peers]]
name = "hole"
provider_id = "PBENCH"
endpoint = "http://127.0.0.1:{port}/as4"
certificate = "certs/ap.pem"
participants = ["{FAR}"]
"""
    made.config.write_text(text)
    return made.config


async def _case(root: Path, hole_docs: int, per_peer: int, failures: int) -> list[float]:
    hole = Hole()
    port = await hole.start()
    settings = loader.load(_config(root, port, per_peer, failures))
    sender = settings.senders[0]
    async with running(settings) as gw:
        for i in range(hole_docs):
            body = sample_document(
                DocumentKind.INVOICE, seller=SELLER, buyer=FAR, business_id=f"H{i}"
            )
            await gw.pipeline.submit(sender, body)
        while len(hole.writers) < min(hole_docs, per_peer):  # noqa: ASYNC110 - polls a socket count
            await asyncio.sleep(0.01)
        ids = []
        for i in range(LOCAL_DOCS):
            body = sample_document(
                DocumentKind.INVOICE, seller=SELLER, buyer=BUYER, business_id=f"L{i}"
            )
            ids.append((await gw.pipeline.submit(sender, body)).document_id)
        waits = []
        for doc_id in ids:
            while (history := await gw.store.history(doc_id))[-1].state is not State.DELIVERED:  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # the store is polled, as a client would
            waits.append((history[-1].at - history[0].at).total_seconds())
        await hole.close()
    return waits


def main(argv: list[str] | None = None) -> None:
    log_mod.configure("console", "error")
    root = Path(tempfile.mkdtemp(prefix="gw-black-hole-"))
    cases = {
        "no black hole": (0, 2, 5),
        "black hole, no per-peer limit (as before)": (HOLE_DOCS, 4, 1000),
        "black hole, per_peer_concurrency = 2": (HOLE_DOCS, 2, 5),
    }
    for n, (name, args) in enumerate(cases.items()):
        waits = asyncio.run(_case(root / str(n), *args))
        print(
            f"black_hole {name:<42} local delivery p50 {statistics.median(waits) * 1000:7.0f} ms"
            f"  max {max(waits) * 1000:7.0f} ms  machine={platform.machine()}"
        )


if __name__ == "__main__":
    main()
