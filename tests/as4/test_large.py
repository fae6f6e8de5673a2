"""A 50 MB invoice (an embedded attachment) through the core, both ways,
with the peak of Python allocations measured by tracemalloc.

The issue's target is under 2x the payload for the receive path. The body
and the document handed to each side are allocated before measuring; the
peak counts everything the path allocates, its result included.
"""

from __future__ import annotations

import base64
import gc
import os
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

from tests.as4.helpers import Pki, invoice, read, request

SIZE = 50 * 1024 * 1024
T = TypeVar("T")


def big_invoice(size: int = SIZE) -> bytes:
    """The sample invoice with an embedded attachment making it ``size`` bytes."""
    doc = invoice()
    anchor = doc.index(b"<cac:AccountingSupplierParty>")
    head = (
        b"<cac:AdditionalDocumentReference><cbc:ID>att-1</cbc:ID><cac:Attachment>"
        b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="big.pdf">'
    )
    tail = b"</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
    room = size - len(doc) - len(head) - len(tail)
    blob = base64.b64encode(os.urandom(room * 3 // 4 + 3))[:room]
    return b"".join((doc[:anchor], head, blob, tail, doc[anchor:]))


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
    document = big_invoice()
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
