"""Property-based fuzzing of the readers that face the internet (issue #9, item 17).

Each fuzz target (``fuzz/targets.py``) gets a few hundred inputs derived from
a valid seed by random byte-level mutations (flips, insertions, deletions,
repeats, truncations), the kind of damage a hostile or broken peer sends.
The property: the reader refuses with a GatewayError (an HTTP status or a
signed ebMS error at the edge) and nothing else, and a signed message is
either refused or yields exactly what was signed. ``scripts/fuzz`` runs the
same targets coverage-guided, for as long as one likes.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import seeds, targets
from gateway.as4 import mime, sbdh
from gateway.config import loader
from gateway.service.intake import check_document
from tests.support import Network, make_network

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with one to four random edits."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate", "byte"]))
        if edit == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "byte" and data:
            data[at] = draw(st.sampled_from(b"<>&\"'=:/ \r\n\x00\xff-"))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            chunk = data[at : at + draw(st.integers(1, 200))]
            data[at:at] = chunk * draw(st.integers(1, 50))
        else:
            del data[at:]
    return bytes(data)


@FAST
@given(mutated(seeds.multipart()[1]))
def test_mime_reader_refuses_damaged_multiparts_with_an_ebms_error_only(data: bytes) -> None:
    """A valid multipart damaged by random edits is either read or refused with a GatewayError
    (an ebMS error at the edge); no other exception escapes."""
    targets.mime_reader(data)


@FAST
@given(st.binary(max_size=2000))
def test_mime_reader_refuses_arbitrary_bytes_with_an_ebms_error_only(data: bytes) -> None:
    """Arbitrary bytes as a multipart (and as its Content-Type) are read or refused with a
    GatewayError; no other exception escapes."""
    targets.mime_reader(data)


@FAST
@given(mutated(seeds.sbdh_envelope()))
def test_sbdh_reader_refuses_damaged_envelopes_with_an_ebms_error_only(data: bytes) -> None:
    """A damaged SBDH envelope is refused with a GatewayError, or read into an XML document with
    a receiver and a document type."""
    targets.sbdh_reader(data)


@SLOW
@given(mutated(seeds.signed_request()[1]))
def test_a_changed_signed_message_is_refused_or_yields_exactly_what_was_signed(
    data: bytes,
) -> None:
    """A signed AS4 message damaged by random edits is refused with a GatewayError, or read as
    the very document, SBDH and ebMS header that were signed."""
    targets.signed_message(data)


@SLOW
@given(mutated(seeds.invoice()))
def test_document_reader_refuses_damaged_invoices_with_an_input_error_only(data: bytes) -> None:
    """A damaged invoice through the intake checks is accepted or refused with a GatewayError; no
    other exception escapes."""
    targets.document_reader(data)


# --- the sender API, over real HTTP --------------------------------------------


@pytest.fixture(scope="module")
def gateway_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    net = make_network(
        tmp_path_factory.mktemp("fuzz-api"),
        "fuzzapi",
        participants=[str(seeds.SELLER), str(seeds.BUYER)],
    )
    net.start()
    try:
        yield net
    finally:
        net.stop()


def _stored(net: Network) -> int:
    """Documents in the running gateway's SQLite store, read beside it (WAL)."""
    url = loader.load(net.config).store.url
    path = url.removeprefix("sqlite://")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=mutated(seeds.invoice()))
def test_the_sender_api_answers_damaged_bodies_with_a_client_error_never_500(
    gateway_process: Network, body: bytes
) -> None:
    """A running gateway answers damaged invoices with 202, 422 (both stored, with an id) or a
    4xx error code (nothing stored), never a 500."""
    before = _stored(gateway_process)
    status, answer = gateway_process.submit(body)
    # 403: the damage took the seller away, which this sender may not send
    # for; 409: the same invoice (seller, number, date) was accepted before.
    assert status in (202, 400, 403, 409, 413, 415, 422), (status, answer)
    assert isinstance(answer, dict)
    assert answer.get("id") if status in (202, 422) else answer.get("error"), answer
    assert _stored(gateway_process) == before + (1 if status in (202, 422) else 0)


def test_seeds_are_valid_so_mutations_start_deep() -> None:
    """Each fuzz target's seed is accepted by the reader behind it (not merely refused
    cleanly): a MIME message with its parts, an SBDH with receiver and document type, a signed
    request that verifies, an invoice with no fatal finding. Mutations then start deep."""
    ctype, body = seeds.multipart()
    assert mime.parse(ctype, body).attachments
    header, document = sbdh.unwrap(
        seeds.sbdh_envelope(), max_bytes=targets.LIMITS.max_document_bytes
    )
    assert header.receiver and header.document_type and document.startswith(b"<")
    ctype, request = seeds.signed_request()
    assert targets.read_signed(ctype, request).document.startswith(b"<")
    assert check_document(seeds.invoice(), targets.LIMITS).problems() == []
    for name, target in targets.TARGETS.items():  # and the targets run them without a finding
        for seed in targets.seed_inputs(name):
            target(seed)
