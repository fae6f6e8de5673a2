"""Nothing is accepted twice: a peer's message under either of its keys, a
sender's invoice under its business identity, a sender's Idempotency-Key in
that sender's own namespace. Real HTTP on loopback, the embedded store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gateway.as4 import outbound, sbdh
from gateway.cli.scaffold import hash_token
from gateway.config import loader
from gateway.pki.certificates import write_dev_pki
from gateway.server.app import Gateway, make_app, running
from tests.as4.helpers import DOCTYPE, PROCESS
from tests.conftest import BUYER, SELLER, invoice

BETA = "PBETA0001"
TOKENS = {"a": "token-of-sender-a-0001", "a:b": "token-of-sender-a:b-0001"}


@dataclass
class Node:
    client: TestClient
    gw: Gateway
    token: str
    beta_key: rsa.RSAPrivateKey
    beta_cert: x509.Certificate

    def auth(self, token: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token or self.token}",
            "Content-Type": "application/xml",
            **extra,
        }

    async def post(self, body: bytes, **headers: str) -> tuple[int, dict[str, object]]:
        token = headers.pop("token", None)
        resp = await self.client.post(
            "/api/v1/documents", data=body, headers=self.auth(token, **headers)
        )
        return resp.status, dict(await resp.json())


@pytest.fixture
async def node(network_dir: tuple[Path, str], tmp_path: Path) -> AsyncIterator[Node]:
    cfg, token = network_dir
    beta = write_dev_pki(
        tmp_path / "beta", BETA, now=datetime.now(UTC), ca_dir=cfg.parent / "certs"
    )
    senders = "".join(
        f'\n[[senders]]\nname = "{name}"\ntoken_sha256 = "{hash_token(tok)}"\n'
        for name, tok in TOKENS.items()
    )
    cfg.write_text(
        cfg.read_text()
        + senders
        + f"""
[[peers]]
name = "beta"
provider_id = "{BETA}"
endpoint = "http://127.0.0.1:9/as4"
certificate = "{beta.certificate}"
participants = []
[peers.agreement]
id = "AB-1"
direction = "both"
"""
    )
    settings = loader.load(cfg)
    key = load_pem_private_key(beta.key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(beta.certificate.read_bytes())
    async with running(settings) as gw:
        client = TestClient(TestServer(make_app(gw)))
        await client.start_server()
        try:
            yield Node(client, gw, token, key, cert)
        finally:
            await client.close()


async def _send_as4(node: Node, *, message_id: str, instance_id: str) -> bytes:
    """A signed, encrypted AS4 message from peer beta to our /as4."""
    settings = node.gw.settings
    now = datetime.now(UTC)
    um = outbound.user_message(
        delivery_id=message_id,
        now=now,
        from_party=BETA,
        to_party=settings.network.provider_id,
        sender=str(SELLER),
        recipient=str(BUYER),
        document_type=DOCTYPE,
        process=PROCESS,
    )
    envelope = sbdh.Sbdh(
        sender=str(SELLER),
        receiver=str(BUYER),
        document_type=DOCTYPE,
        process=PROCESS,
        country_c1="DK",
        instance_id=instance_id,
        created_at=now,
    )
    ours = x509.load_pem_x509_certificate(settings.network.certificate.read_bytes())
    request = outbound.build_request(
        invoice("INV-AS4-1"),
        user_message=um,
        envelope=envelope,
        key=node.beta_key,
        cert=node.beta_cert,
        recipient=ours,
    )
    resp = await node.client.post(
        "/as4",
        data=b"".join(bytes(c) for c in request.chunks),
        headers={"Content-Type": request.content_type},
    )
    answer = await resp.read()
    assert resp.status == 200, answer[:2000]
    return answer


# --- item 7: a peer's message under either key --------------------------------


@pytest.mark.parametrize(
    ("second_message_id", "second_instance_id"),
    [
        ("m-1@beta", "7b0c7f3e-0000-4000-8000-000000000002"),  # same MessageId
        ("m-2@beta", "7b0c7f3e-0000-4000-8000-000000000001"),  # same InstanceIdentifier
    ],
    ids=["same-message-id", "same-instance-identifier"],
)
async def test_as4_message_repeated_under_either_key_is_stored_once(
    node: Node, second_message_id: str, second_instance_id: str
) -> None:
    """A peer's AS4 message repeated with the same MessageId or the same SBDH instance id is
    answered with a receipt each time but stored once."""
    first = await _send_as4(
        node, message_id="m-1@beta", instance_id="7b0c7f3e-0000-4000-8000-000000000001"
    )
    second = await _send_as4(node, message_id=second_message_id, instance_id=second_instance_id)

    assert b"Receipt" in first and b"Receipt" in second
    assert await node.gw.store.count_documents() == 1
    assert await node.gw.store.outbox_depth() <= 1


# --- item 9: the same invoice twice ------------------------------------------


async def test_a_second_submission_of_the_same_invoice_is_409_naming_the_first(
    node: Node,
) -> None:
    """Submitting the same invoice again gets 409 duplicate_invoice naming the first document's
    id and location, and stores nothing new."""
    status, first = await node.post(invoice("INV-DUP-1"))
    assert status == 202

    status, again = await node.post(invoice("INV-DUP-1"))

    assert status == 409, again
    assert again["error"] == "duplicate_invoice"
    assert again["details"] == {  # type: ignore[comparison-overlap]
        "document_id": first["id"],
        "location": f"/api/v1/documents/{first['id']}",
    }
    assert await node.gw.store.count_documents() == 1


async def test_allow_duplicate_header_sends_a_genuine_resend(node: Node) -> None:
    """The same invoice with Allow-Duplicate: true is accepted as a new document with a new id."""
    status, first = await node.post(invoice("INV-DUP-2"))
    assert status == 202

    status, again = await node.post(invoice("INV-DUP-2"), **{"Allow-Duplicate": "true"})

    assert status == 202, again
    assert again["id"] != first["id"]
    assert await node.gw.store.count_documents() == 2


async def test_allow_duplicate_must_be_true_or_false(node: Node) -> None:
    """An Allow-Duplicate header that is not true or false gets 400 naming the header and stores
    nothing."""
    status, answer = await node.post(invoice("INV-DUP-3"), **{"Allow-Duplicate": "yes"})

    assert status == 400
    assert "Allow-Duplicate" in str(answer["message"])
    assert await node.gw.store.count_documents() == 0


async def test_a_rejected_invoice_does_not_block_its_corrected_resubmission(
    node: Node,
) -> None:
    """An invoice rejected by validation does not count as a duplicate: its corrected version is
    accepted, and only that one blocks a further copy with 409."""
    good = invoice("INV-DUP-4")
    broken = good.replace(b"<cbc:IssueDate>", b"<cbc:Bogus>x</cbc:Bogus><cbc:IssueDate>", 1)
    status, rejected = await node.post(broken)
    assert (status, rejected["status"]) == (422, "rejected")

    status, accepted = await node.post(good)

    assert status == 202, accepted
    status, again = await node.post(good)
    assert status == 409 and again["details"]["document_id"] == accepted["id"]  # type: ignore[index]


async def test_the_same_number_from_two_senders_or_on_two_dates_is_not_a_duplicate(
    node: Node,
) -> None:
    """The same invoice number from another sender, or with another issue date, is accepted as a
    new document."""
    body = invoice("INV-DUP-5")
    next_year = body.replace(b"<cbc:IssueDate>2026-", b"<cbc:IssueDate>2027-", 1)
    assert next_year != body
    assert (await node.post(body))[0] == 202
    assert (await node.post(body, token=TOKENS["a"]))[0] == 202
    assert (await node.post(next_year))[0] == 202
    assert await node.gw.store.count_documents() == 3


# --- item 10: idempotency namespaces ------------------------------------------


async def test_senders_whose_names_share_a_prefix_never_share_an_idempotency_key(
    node: Node,
) -> None:
    """Senders "a" and "a:b" with keys "b:k" and "k" get two separate documents: their
    Idempotency-Keys never collide."""
    # Before: "api:a:b:k" for sender "a" with key "b:k" and sender "a:b" with key "k".
    status_a, by_a = await node.post(
        invoice("INV-NS-A"), token=TOKENS["a"], **{"Idempotency-Key": "b:k"}
    )
    status_ab, by_ab = await node.post(
        invoice("INV-NS-AB"), token=TOKENS["a:b"], **{"Idempotency-Key": "k"}
    )

    assert (status_a, status_ab) == (202, 202), (by_a, by_ab)
    assert by_a["id"] != by_ab["id"]
    assert await node.gw.store.count_documents() == 2
