"""The recipients' inbox and the senders' listing over real HTTP on loopback:
a recipient token reads only its participants' documents (list, show, UBL,
PDF) and acknowledges them once; the sender then sees `retrieved`."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from gateway.config.settings import hash_token
from gateway.model import (
    Direction,
    DocumentKind,
    DocumentMeta,
    RecipientAccount,
    State,
    StatusEvent,
)
from tests.builders import BUYER, SELLER, Api, invoice, network_config, serve_api

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _account(api: Api, participant: object = BUYER, name: str = "buyer") -> str:
    token = f"rcp_{uuid.uuid4().hex}{uuid.uuid4().hex}"
    account = RecipientAccount(name, hash_token(token), (str(participant),), datetime.now(UTC))
    await api.gw.store.add_recipient_account(account)
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _submit(api: Api, number: str, *, buyer: object = BUYER) -> str:
    resp = await api.client.post(
        "/api/v1/documents", data=invoice(number, buyer=buyer), headers=api.auth()
    )
    assert resp.status == 202, await resp.text()
    doc_id: str = (await resp.json())["id"]
    return doc_id


async def _delivered(api: Api, doc_id: str) -> dict[str, Any]:
    for _ in range(500):
        resp = await api.client.get(f"/api/v1/documents/{doc_id}", headers=api.auth())
        body: dict[str, Any] = await resp.json()
        if body["final"]:
            assert body["status"] == "delivered", body
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"{doc_id} was never delivered")


async def test_a_recipient_lists_reads_and_acknowledges_its_document(api: Api) -> None:
    """The buyer's token lists the delivered invoice with its inbox metadata, shows its
    history, gets its exact UBL and a PDF, and acks it; the sender's status view then says
    retrieved, and a second ack answers the same and adds nothing."""
    doc_id = await _submit(api, "INV-77")
    await _delivered(api, doc_id)
    token = await _account(api)

    resp = await api.client.get("/api/v1/inbox", headers=_bearer(token))
    assert resp.status == 200
    page = await resp.json()
    assert page["next_cursor"] is None
    (listed,) = page["documents"]
    assert listed["id"] == doc_id
    assert listed["state"] == "delivered"
    assert (listed["sender"], listed["recipient"]) == (str(SELLER), str(BUYER))
    assert listed["business_id"] == "INV-77"
    assert listed["kind"] == "Invoice"
    assert set(listed) >= {"seller_name", "issue_date", "due_date", "currency", "payable_amount"}
    assert listed["currency"] == "EUR"

    shown = await (await api.client.get(f"/api/v1/inbox/{doc_id}", headers=_bearer(token))).json()
    assert [e["state"] for e in shown["history"]] == ["received", "routed", "delivered"]
    assert shown["record"]["BT-1_invoice_number"] == "INV-77"
    assert shown["record"]["document_id"] == doc_id and shown["record"]["lines"]

    ubl = await api.client.get(f"/api/v1/inbox/{doc_id}/ubl", headers=_bearer(token))
    assert ubl.content_type == "application/xml"
    assert await ubl.read() == await api.gw.store.get_payload(doc_id)

    pdf = await api.client.get(f"/api/v1/inbox/{doc_id}/pdf", headers=_bearer(token))
    assert pdf.status == 200
    assert pdf.content_type == "application/pdf"
    assert (await pdf.read()).startswith(b"%PDF-")

    first = await api.client.post(f"/api/v1/inbox/{doc_id}/ack", headers=_bearer(token))
    assert first.status == 200
    answer = await first.json()
    assert answer["state"] == "retrieved"
    again = await api.client.post(f"/api/v1/inbox/{doc_id}/ack", headers=_bearer(token))
    assert (again.status, await again.json()) == (200, answer)

    status = await api.client.get(f"/api/v1/documents/{doc_id}", headers=api.auth())
    body = await status.json()
    assert body["status"] == "retrieved"
    assert [e["state"] for e in body["history"]].count("retrieved") == 1
    listed_now = await (await api.client.get("/api/v1/inbox", headers=_bearer(token))).json()
    assert listed_now["documents"][0]["state"] == "retrieved"


async def test_a_document_not_yet_delivered_cannot_be_acknowledged(api: Api) -> None:
    """An ack of a document still on its way is 409 naming its state, and adds no event."""
    token = await _account(api)
    doc_id = str(uuid.uuid4())
    await _store_received(api, doc_id)
    resp = await api.client.post(f"/api/v1/inbox/{doc_id}/ack", headers=_bearer(token))
    assert resp.status == 409
    body = await resp.json()
    assert "received" in body["message"]
    assert [e.state.value for e in await api.gw.store.history(doc_id)] == ["received"]


async def _store_received(api: Api, doc_id: str) -> None:
    body = invoice("INV-9")
    now = datetime.now(UTC)
    meta = DocumentMeta(
        id=doc_id,
        direction=Direction.INBOUND,
        kind=DocumentKind.INVOICE,
        sender=str(SELLER),
        recipient=str(BUYER),
        document_type="urn:x",
        process="urn:y",
        business_id="INV-9",
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        received_at=now,
        origin="peer",
    )
    await api.gw.store.accept(meta, body, [StatusEvent(State.RECEIVED, now, "in")])


async def test_tokens_read_only_what_they_may(api: Api) -> None:
    """An unknown or revoked recipient token and a sender token are 401 on the inbox;
    another participant's recipient token gets 404 for the buyer's document, in every view."""
    doc_id = await _submit(api, "INV-5")
    await _delivered(api, doc_id)
    seller_token = await _account(api, SELLER, name="seller")
    revoked = await _account(api, name="old")
    await api.gw.store.revoke_recipient_account("old")

    for token in ("rcp_unknown", revoked, api.token):
        resp = await api.client.get("/api/v1/inbox", headers=_bearer(token))
        assert resp.status == 401, token
    assert (await api.client.get("/api/v1/inbox")).status == 401

    listed = await (await api.client.get("/api/v1/inbox", headers=_bearer(seller_token))).json()
    assert listed["documents"] == []
    for tail in ("", "/ubl", "/pdf"):
        resp = await api.client.get(f"/api/v1/inbox/{doc_id}{tail}", headers=_bearer(seller_token))
        assert resp.status == 404, tail
    resp = await api.client.post(f"/api/v1/inbox/{doc_id}/ack", headers=_bearer(seller_token))
    assert resp.status == 404
    # A recipient token is no sender's: it neither lists nor follows submissions.
    buyer_token = await _account(api)
    assert (await api.client.get("/api/v1/documents", headers=_bearer(buyer_token))).status == 401
    resp = await api.client.get(f"/api/v1/documents/{doc_id}", headers=_bearer(buyer_token))
    assert resp.status == 401


async def test_a_sender_lists_its_submissions_in_pages(api: Api) -> None:
    """Five submissions come back newest first, two a page by cursor, then filtered by state;
    bad parameters are 400 naming the parameter."""
    ids = [await _submit(api, f"INV-{n}") for n in range(5)]
    for doc_id in ids:
        await _delivered(api, doc_id)
    seen: list[str] = []
    url = "/api/v1/documents?limit=2"
    for _ in range(5):
        page = await (await api.client.get(url, headers=api.auth())).json()
        seen += [d["id"] for d in page["documents"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/documents?limit=2&cursor={page['next_cursor']}"
    assert seen == ids[::-1]
    delivered = await api.client.get("/api/v1/documents?state=delivered", headers=api.auth())
    assert len((await delivered.json())["documents"]) == 5
    failed = await api.client.get("/api/v1/documents?state=failed", headers=api.auth())
    assert (await failed.json())["documents"] == []
    future = await api.client.get(
        "/api/v1/documents?since=2999-01-01T00:00:00%2B00:00", headers=api.auth()
    )
    assert (await future.json())["documents"] == []
    for query, word in [
        ("state=lost", "state"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=%21%21", "cursor"),
        ("since=yesterday", "since"),
        ("since=2026-01-01T00:00:00", "since"),
    ]:
        resp = await api.client.get(f"/api/v1/documents?{query}", headers=api.auth())
        assert resp.status == 400, query
        assert word in (await resp.json())["message"], query


@pytest.fixture
async def redis_api(tmp_path: Path) -> AsyncIterator[Api]:
    """A gateway whose store is Redis under a fresh prefix, serving its API."""
    prefix = f"test-{uuid.uuid4().hex}"
    made = network_config(tmp_path, store=REDIS_URL)
    text = made.config.read_text()
    made.config.write_text(text.replace("[store]\n", f'[store]\nprefix = "{prefix}"\n'))
    try:
        async with serve_api(made.config, made.token) as api:
            yield api
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_the_inbox_and_the_sender_listing_work_on_redis(redis_api: Api) -> None:
    """On the Redis store the buyer lists its delivered documents newest first in pages,
    acks one, and the sender's listing filtered by `retrieved` finds exactly it."""
    api = redis_api
    ids = [await _submit(api, f"INV-R{n}") for n in range(3)]
    for doc_id in ids:
        await _delivered(api, doc_id)
    token = await _account(api)
    first = await (await api.client.get("/api/v1/inbox?limit=2", headers=_bearer(token))).json()
    assert [d["id"] for d in first["documents"]] == ids[:0:-1]
    url = f"/api/v1/inbox?limit=2&cursor={first['next_cursor']}"
    rest = await (await api.client.get(url, headers=_bearer(token))).json()
    assert ([d["id"] for d in rest["documents"]], rest["next_cursor"]) == ([ids[0]], None)
    resp = await api.client.post(f"/api/v1/inbox/{ids[1]}/ack", headers=_bearer(token))
    assert resp.status == 200
    mine = await api.client.get("/api/v1/documents?state=retrieved", headers=api.auth())
    assert [d["id"] for d in (await mine.json())["documents"]] == [ids[1]]


async def test_the_served_openapi_describes_every_inbox_route(api: Api) -> None:
    """Each inbox and listing route the gateway serves is in its OpenAPI document, with the
    method it answers, and the states a document can be in are all named."""
    from gateway.server.inbox import routes

    spec = await (await api.client.get("/api/v1/openapi.json")).json()
    for route in routes():
        assert route.method.lower() in spec["paths"][route.path], (route.method, route.path)
    assert set(spec["components"]["schemas"]["State"]["enum"]) == {s.value for s in State}


async def test_acks_sent_at_once_record_one_retrieval(api: Api) -> None:
    """Five acks of one document sent at the same moment all answer the same retrieval,
    and the history holds it once."""
    doc_id = await _submit(api, "INV-ACK")
    await _delivered(api, doc_id)
    token = await _account(api)
    url = f"/api/v1/inbox/{doc_id}/ack"
    answers = await asyncio.gather(
        *(api.client.post(url, headers=_bearer(token)) for _ in range(5))
    )
    bodies = [await resp.json() for resp in answers]
    assert {resp.status for resp in answers} == {200}
    assert all(body == bodies[0] for body in bodies)
    states = [e.state for e in await api.gw.store.history(doc_id)]
    assert states.count(State.RETRIEVED) == 1
