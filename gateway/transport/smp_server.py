"""Our participants, published over a Peppol SMP 1.x compatible API.

``GET /smp/{participant}``: the ServiceGroup (200), or 404 when the
participant is not one of ours. ``GET /smp/{participant}/services/{doctype}``:
the SignedServiceMetadata naming our AS4 endpoint and certificate, signed
with our key (200), or 404. A segment that is no identifier at all is a 400.
Every spelling clients use is accepted (see ``gateway.directory.smp``).

Signing is the costly part, so signed answers are kept per (participant,
document type) for ``memo_seconds``; membership is asked of the directory on
every request, so a participant who leaves disappears at once.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog
from aiohttp import web

from gateway.config.settings import Settings
from gateway.directory.smp import service_group_xml, signed_service_metadata_xml
from gateway.directory.smp_names import SMP_PATH, parse_doctype_segment, parse_participant_segment
from gateway.model import BIS3_PROCESS, InvalidIdentifier, ParticipantId
from gateway.transport.credentials import load_identity

log = structlog.get_logger("gateway.transport.smp_server")

DocumentTypesOf = Callable[[ParticipantId], Awaitable[tuple[str, ...] | None]]

CONTENT_TYPE = "application/xml"


def smp_routes(
    settings: Settings,
    directory: DocumentTypesOf,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    memo_seconds: float = 300.0,
    memo_entries: int = 10_000,
) -> list[web.RouteDef]:
    """The two SMP routes. ``directory(pid)`` gives the document types one of
    our participants receives, or None for a participant that is not ours.
    Our key and certificate are read now, so a broken file stops start-up."""
    handler = _SmpHandler(settings, directory, clock, memo_seconds, memo_entries)
    return [
        web.get(SMP_PATH + "/{participant}", handler.service_group),
        web.get(SMP_PATH + "/{participant}/services/{doctype}", handler.service_metadata),
    ]


class _SmpHandler:
    def __init__(
        self,
        settings: Settings,
        directory: DocumentTypesOf,
        clock: Callable[[], datetime],
        memo_seconds: float,
        memo_entries: int,
    ) -> None:
        self._network = settings.network
        self._base = settings.network.base_url.rstrip("/") + SMP_PATH
        self._directory = directory
        self._clock = clock
        self._key, self._cert = load_identity(settings.network)
        self._memo_for = timedelta(seconds=memo_seconds)
        self._memo_entries = memo_entries
        self._max_age = int(memo_seconds)
        self._memo: OrderedDict[tuple[ParticipantId, str], tuple[datetime, bytes]] = OrderedDict()

    async def service_group(self, request: web.Request) -> web.Response:
        try:
            pid = parse_participant_segment(request.match_info["participant"])
        except InvalidIdentifier as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        doctypes = await self._directory(pid)
        if doctypes is None:
            raise web.HTTPNotFound(text=f"participant {pid} is not registered here")
        return _xml(service_group_xml(pid, doctypes, self._base), self._max_age)

    async def service_metadata(self, request: web.Request) -> web.Response:
        try:
            pid = parse_participant_segment(request.match_info["participant"])
            doctype = parse_doctype_segment(request.match_info["doctype"])
        except InvalidIdentifier as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        doctypes = await self._directory(pid)
        if doctypes is None:
            raise web.HTTPNotFound(text=f"participant {pid} is not registered here")
        if doctype not in doctypes:
            raise web.HTTPNotFound(text=f"participant {pid} does not receive {doctype}")
        return _xml(await self._signed(pid, doctype), self._max_age)

    async def _signed(self, pid: ParticipantId, doctype: str) -> bytes:
        now = self._clock()
        key = (pid, doctype)
        kept = self._memo.get(key)
        if kept is not None and kept[0] > now:
            self._memo.move_to_end(key)
            return kept[1]
        # Off the event loop: an RSA signature plus canonicalisation takes
        # milliseconds, long enough to stall every other request.
        body = await asyncio.to_thread(self._sign, pid, doctype, now)
        self._memo[key] = (now + self._memo_for, body)
        self._memo.move_to_end(key)
        while len(self._memo) > self._memo_entries:
            self._memo.popitem(last=False)  # least recently used
        return body

    def _sign(self, pid: ParticipantId, doctype: str, now: datetime) -> bytes:
        # The service lasts as long as our certificate: past it, no client
        # could trust the endpoint anyway.
        return signed_service_metadata_xml(
            pid,
            doctype,
            BIS3_PROCESS,
            self._network.exchange_url,
            self._cert,
            self._key,
            self._cert,
            activation=self._cert.not_valid_before_utc,
            expiration=self._cert.not_valid_after_utc,
            now=now,
            description=f"{self._network.name} access point {self._network.provider_id}",
            contact_url=self._network.base_url,
        )


def _xml(body: bytes, max_age: int) -> web.Response:
    # Clients and proxies may keep an answer as long as we keep its signature.
    headers = {"Cache-Control": f"public, max-age={max_age}"}
    return web.Response(body=body, content_type=CONTENT_TYPE, charset="utf-8", headers=headers)
