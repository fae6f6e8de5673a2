"""A peer's document is received only under the agreement's terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import loader
from gateway.config import settings as config
from gateway.model import BIS3_DOCUMENT_TYPES, BIS3_PROCESS
from gateway.server.app import running
from gateway.service.pipeline import AgreementRefused
from gateway.transport.base import InboundMessage
from tests.conftest import BUYER, SELLER, invoice

PEER_TERMS = {
    "send only": ('direction = "send"', "only allows sending to this network"),
    "expired": ("valid_until = 2026-01-31", "expired on 2026-01-31"),
    "too large": ("max_document_bytes = 1000", "larger than agreement"),
    "signature required": ("require_document_signature = true", "document signature"),
}


def _with_peer(cfg: Path, terms: str) -> config.Settings:
    cfg.write_text(
        cfg.read_text()
        + f"""
[[peers]]
name = "beta"
provider_id = "PBETA"
endpoint = "http://127.0.0.1:9/as4"
certificate = "certs/ap.pem"
participants = []
[peers.agreement]
id = "AB-1"
{terms}
"""
    )
    return loader.load(cfg)


def _message(n: int) -> InboundMessage:
    body = invoice(f"INV-IN-{n}")
    doctype = BIS3_DOCUMENT_TYPES[0]  # the envelope must describe the invoice it carries
    return InboundMessage(
        f"m{n}@beta", "beta", str(SELLER), str(BUYER), doctype, BIS3_PROCESS, body
    )


@pytest.mark.parametrize("case", list(PEER_TERMS))
async def test_documents_outside_the_agreement_are_refused_and_not_stored(
    network_dir: tuple[Path, str], case: str
) -> None:
    """A peer's document outside its agreement (send-only, expired, too large, signature
    required) is refused with EBMS:0010 saying why, and nothing is stored."""
    terms, reason = PEER_TERMS[case]
    async with running(_with_peer(network_dir[0], terms)) as gw:
        with pytest.raises(AgreementRefused, match=reason) as refused:
            await gw.pipeline.receive(_message(1))
        assert refused.value.ebms_code == "EBMS:0010"
        assert await gw.store.count_documents() == 0


async def test_a_document_under_the_agreement_is_received_and_counted(
    network_dir: tuple[Path, str],
) -> None:
    """A peer's document within its agreement is stored with the peer as origin and counted as
    one received document under that agreement for the month."""
    async with running(_with_peer(network_dir[0], 'direction = "both"')) as gw:
        outcome = await gw.pipeline.receive(_message(2))
        assert not outcome.duplicate
        meta = await gw.store.get_meta(outcome.document_id)
        assert meta is not None and meta.origin == "beta"
        month = meta.received_at.strftime("%Y-%m")
        (count,) = await gw.store.exchanges(month)
        assert (count.peer, count.agreement, count.way, count.documents) == (
            "beta",
            "AB-1",
            "receive",
            1,
        )
