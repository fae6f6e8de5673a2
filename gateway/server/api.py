"""The enterprise HTTP API (aiohttp adapter over the pipeline)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import structlog
from aiohttp import web

from gateway.config.settings import Sender
from gateway.errors import (
    GatewayError,
    InputError,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
)
from gateway.model import Direction, status_view
from gateway.server import edge
from gateway.service.pipeline import (
    ALLOW_DUPLICATE,
    DuplicateInvoice,
    Pipeline,
    StoreOutcomeUnknown,
)
from gateway.store.base import DocumentStore
from gateway.transport import bodies
from gateway.transport.http_guard import client_went_away

log = structlog.get_logger("gateway.api")

XML_TYPES = ("application/xml", "text/xml")
PIPELINE: web.AppKey[Pipeline] = web.AppKey("pipeline", Pipeline)
STORE: web.AppKey[Any] = web.AppKey("store", object)
MAX_IDEMPOTENCY_KEY = 200


def error_response(exc: GatewayError) -> web.Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return web.json_response(exc.to_json(), status=exc.http_status, headers=headers)


def authenticate(request: web.Request) -> Sender:
    settings = request.app[PIPELINE].settings
    return request.app[edge.GUARD].authenticate(
        request, settings.sender_for_token, "unknown or revoked token"
    )


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise InputError(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    # Undecodable bytes arrive as lone surrogates, which no store can keep.
    if not (key.isascii() and key.isprintable()):
        raise InputError("Idempotency-Key must be printable ASCII characters")
    return key


async def read_xml_body(request: web.Request, limit: int) -> bytes:
    ctype = request.content_type
    if ctype not in XML_TYPES and not ctype.endswith("+xml"):
        raise UnsupportedMediaType(f"Content-Type must be application/xml; got {ctype or '(none)'}")
    try:
        return await bodies.read_body(request, limit)
    except bodies.BodyTooLarge:
        raise PayloadTooLarge(
            f"document is larger than the limit of {limit} bytes", limit=limit
        ) from None
    except bodies.BudgetFull as exc:
        message = "the gateway is receiving too much at once; retry later"
        raise web.HTTPServiceUnavailable(
            headers={"Retry-After": str(exc.retry_after)},
            text=json.dumps({"error": "busy", "message": message}),
            content_type="application/json",
        ) from None
    except bodies.BodyTimeout as exc:
        raise web.HTTPRequestTimeout(text=f"{exc}\n") from None


async def submit(request: web.Request) -> web.Response:
    sender = authenticate(request)
    structlog.contextvars.bind_contextvars(sender=sender.name)
    key = idempotency_key(request)
    allow_duplicate = _allow_duplicate(request)
    settings = request.app[PIPELINE].settings
    body = await read_xml_body(request, settings.limits.max_document_bytes)
    try:
        result = await request.app[PIPELINE].submit(
            sender, body, idempotency_key=key, allow_duplicate=allow_duplicate
        )
    except (DuplicateInvoice, StoreOutcomeUnknown) as exc:
        # Both name a document: the client finds it under Location.
        response = error_response(exc)
        response.headers["Location"] = str(exc.details["location"])
        if isinstance(exc, StoreOutcomeUnknown):
            response.headers["Retry-After"] = "1"
        log.info("request.refused", path=request.path, error=exc.code, status=exc.http_status)
        return response
    payload: dict[str, Any] = {
        "id": result.document_id,
        "status": result.state.value,
        "location": f"/api/v1/documents/{result.document_id}",
    }
    if not result.created:
        payload["repeated"] = True
    if result.errors:
        payload["errors"] = list(result.errors)
    status = 422 if result.errors else 202
    return web.json_response(payload, status=status, headers={"Location": payload["location"]})


def _allow_duplicate(request: web.Request) -> bool:
    value = request.headers.get(ALLOW_DUPLICATE, "false").strip().lower()
    if value not in ("true", "false"):
        raise InputError(f"{ALLOW_DUPLICATE} must be true or false")
    return value == "true"


async def status(request: web.Request) -> web.Response:
    sender = authenticate(request)
    doc_id = request.match_info["id"]
    store: DocumentStore = request.app[STORE]
    meta = await store.get_meta(doc_id)
    # A sender sees only what it submitted: an id alone grants nothing.
    if meta is None or meta.direction is not Direction.OUTBOUND or meta.origin != sender.name:
        raise NotFound(f"no document {doc_id!r} for this sender")
    return web.json_response(status_view(meta, await store.history(doc_id)))


_OPENAPI = resources.files("gateway").joinpath("openapi.json")


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=_OPENAPI.read_bytes(), content_type="application/json")


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except GatewayError as exc:
        log.info("request.refused", path=request.path, error=exc.code, status=exc.http_status)
        return error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        return error_response(PayloadTooLarge("request body too large"))
    except web.HTTPException:
        raise
    except Exception as exc:
        if client_went_away(request, exc):
            # An aborted upload: nobody reads an answer, and nothing broke.
            log.debug("request.client_gone", path=request.path)
            return web.Response(status=400)
        log.exception("request.crashed", path=request.path)
        body = {"error": "internal_error", "message": "internal error; see the gateway log"}
        return web.json_response(body, status=500)


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/documents", submit),
        web.get("/api/v1/documents/{id}", status),
        web.get("/api/v1/openapi.json", openapi),
    ]
