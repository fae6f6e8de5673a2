"""The sender API over real HTTP on loopback, with the embedded store."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import STRANGER, Api, invoice

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol3;</Invoice>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&e;</Invoice>"""


async def _wait_final(api: Api, doc_id: str) -> dict[str, object]:
    for _ in range(200):
        resp = await api.client.get(f"/api/v1/documents/{doc_id}", headers=api.auth())
        body = await resp.json()
        if body["final"]:
            return dict(body)
        await asyncio.sleep(0.02)
    raise AssertionError(f"{doc_id} never reached a final state")


async def test_submit_then_follow_to_delivery(api: Api) -> None:
    """A submitted invoice gets 202 with a Location, its history goes received, routed,
    delivered, and exactly that document lands in the local inbox."""
    resp = await api.client.post("/api/v1/documents", data=invoice(), headers=api.auth())
    assert resp.status == 202
    body = await resp.json()
    assert resp.headers["Location"] == f"/api/v1/documents/{body['id']}"
    final = await _wait_final(api, body["id"])
    assert [e["state"] for e in final["history"]] == ["received", "routed", "delivered"]  # type: ignore[index]
    inbox = list((api.directory / "inbox").rglob("*.xml"))
    assert [p.stem for p in inbox] == [body["id"]]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer not-a-real-token-at-all"}, "unknown or revoked token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing bearer token"),
    ],
)
async def test_bad_tokens_are_refused_and_store_nothing(
    api: Api, headers: dict[str, str], reason: str
) -> None:
    """A missing, unknown or non-Bearer Authorization header gets 401 with the reason, and no
    document is stored."""
    resp = await api.client.post(
        "/api/v1/documents", data=invoice(), headers={**headers, "Content-Type": "application/xml"}
    )
    assert resp.status == 401
    assert reason in (await resp.json())["message"]
    assert await api.gw.store.count_documents() == 0


@pytest.mark.parametrize(
    ("body", "ctype", "status", "code"),
    [
        (b"", "application/xml", 400, "not_xml"),
        (b"this is not xml", "application/xml", 400, "not_xml"),
        (b"<Invoice><unclosed></Invoice>", "application/xml", 400, "not_xml"),
        (BILLION_LAUGHS, "application/xml", 400, "hostile_xml"),
        (XXE, "application/xml", 400, "hostile_xml"),
        (b"<Order xmlns='urn:x'/>", "application/xml", 400, "unknown_document"),
        (b'{"invoice": 1}', "application/json", 415, "unsupported_media_type"),
    ],
)
async def test_bad_bodies_get_clear_errors_and_leave_no_trace(
    api: Api, body: bytes, ctype: str, status: int, code: str
) -> None:
    """Empty, non-XML, malformed, hostile (entity) or unknown XML bodies get 400, and a JSON body
    gets 415, each with an error code and message; nothing is stored or queued."""
    headers = {**api.auth(), "Content-Type": ctype}
    resp = await api.client.post("/api/v1/documents", data=body, headers=headers)
    assert resp.status == status
    answer = await resp.json()
    assert answer["error"] == code and answer["message"]
    assert await api.gw.store.count_documents() == 0
    assert await api.gw.store.outbox_depth() == 0


async def test_oversized_body_is_413_and_leaves_no_trace(api: Api) -> None:
    """A body over max_document_bytes gets 413 payload_too_large and nothing is stored."""
    limit = api.gw.settings.limits.max_document_bytes
    resp = await api.client.post(
        "/api/v1/documents", data=b"<a>" + b" " * (limit + 10) + b"</a>", headers=api.auth()
    )
    assert resp.status == 413
    assert (await resp.json())["error"] == "payload_too_large"
    assert await api.gw.store.count_documents() == 0


async def test_schema_invalid_document_is_rejected_with_reasons(api: Api) -> None:
    """An invoice failing the UBL schema gets 422 "rejected" with a UBL-XSD error naming the bad
    element; its status shows received then rejected, and nothing is queued for delivery."""
    broken = invoice().replace(b"<cbc:IssueDate>", b"<cbc:Bogus>x</cbc:Bogus><cbc:IssueDate>", 1)
    resp = await api.client.post("/api/v1/documents", data=broken, headers=api.auth())
    assert resp.status == 422
    answer = await resp.json()
    assert answer["status"] == "rejected"
    assert answer["errors"][0]["id"] == "UBL-XSD" and "Bogus" in answer["errors"][0]["message"]
    status = await (await api.client.get(answer["location"], headers=api.auth())).json()
    assert [e["state"] for e in status["history"]] == ["received", "rejected"]
    assert "UBL-XSD" in status["history"][1]["details"]["fatal"]
    assert await api.gw.store.outbox_depth() == 0, "a rejected document is never delivered"


async def test_idempotency_key_returns_same_id_and_delivers_once(api: Api) -> None:
    """Eight concurrent submissions with one Idempotency-Key all get 202 with the same id, one
    document is stored and delivered once; the same key with another document gets 422
    idempotency_conflict."""
    headers = {**api.auth(), "Idempotency-Key": "order-42"}
    answers = await asyncio.gather(
        *[api.client.post("/api/v1/documents", data=invoice(), headers=headers) for _ in range(8)]
    )
    bodies = [await r.json() for r in answers]
    assert {r.status for r in answers} == {202}
    assert len({b["id"] for b in bodies}) == 1
    await _wait_final(api, bodies[0]["id"])
    assert await api.gw.store.count_documents() == 1
    assert len(list((api.directory / "inbox").rglob("*.xml"))) == 1
    # The same key with another document is a client bug, said loudly.
    other = await api.client.post("/api/v1/documents", data=invoice("INV-2"), headers=headers)
    assert other.status == 422
    assert (await other.json())["error"] == "idempotency_conflict"


async def test_sender_may_only_send_for_its_own_sellers(api: Api) -> None:
    """An invoice whose seller is not one of the sender's participants gets 403 and nothing is
    stored."""
    from gateway.model import DocumentKind
    from gateway.samples import sample_document
    from tests.conftest import BUYER

    foreign = sample_document(DocumentKind.INVOICE, seller=STRANGER, buyer=BUYER)
    resp = await api.client.post("/api/v1/documents", data=foreign, headers=api.auth())
    assert resp.status == 403
    assert await api.gw.store.count_documents() == 0


async def test_status_of_unknown_document_is_404(api: Api) -> None:
    """Asking the status of an id that does not exist gets 404."""
    resp = await api.client.get("/api/v1/documents/nope", headers=api.auth())
    assert resp.status == 404


async def test_openapi_health_and_metrics(api: Api) -> None:
    """/api/v1/openapi.json serves an OpenAPI 3.1 spec with the documents path, /healthz says ok,
    and after one local delivery /metrics counts it (received, delivered, latency, outbox 0)."""
    spec = await (await api.client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/v1/documents" in spec["paths"]
    health = await api.client.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    resp = await api.client.post("/api/v1/documents", data=invoice(), headers=api.auth())
    await _wait_final(api, (await resp.json())["id"])
    text = await (await api.client.get("/metrics")).text()
    assert 'gateway_documents_received_total{direction="outbound"} 1.0' in text
    assert 'gateway_documents_delivered_total{route="local"} 1.0' in text
    assert "gateway_delivery_latency_seconds_bucket" in text
    assert "gateway_outbox_depth 0.0" in text
