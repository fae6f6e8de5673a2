"""A 50 MB invoice (an embedded attachment) through the core, both ways,
with the peak of Python allocations measured by tracemalloc.

The issue's target is under 2x the payload for the receive path. The body
and the document handed to each side are allocated before measuring; the
peak counts everything the path allocates, its result included.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

from tests.builders import Pki, big_invoice, read, request

SIZE = 50 * 1024 * 1024
T = TypeVar("T")


def peak(run: Callable[[], T]) -> tuple[T, int]:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fifty_megabytes_both_ways_in_bounded_memory(pki: Pki) -> None:
    """A 50 MB invoice is built into a request and read back whole, each side peaking under twice
    the payload in Python allocations."""
    document = big_invoice(SIZE)
    assert len(document) == SIZE
    req, send_peak = peak(lambda: request(pki, document))
    body = req.body()
    ctype = req.content_type
    del req
    got, receive_peak = peak(lambda: read(pki, ctype, body, max_document_bytes=64 * 1024 * 1024))
    assert got.document.endswith(b"</Invoice>")
    assert len(got.document) == SIZE - document.index(b"<!--")  # the XML declaration is gone
    print(f"\n50 MB: send peak {send_peak / SIZE:.2f}x, receive peak {receive_peak / SIZE:.2f}x")
    assert receive_peak < 2 * SIZE
    assert send_peak < 2 * SIZE
