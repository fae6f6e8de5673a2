"""Connection-level limits that aiohttp's server does not have on its own.

``GuardedSite`` listens like ``web.TCPSite`` but hands each accepted
connection to a ``_Guarded`` protocol, which
- refuses a connection past ``max_connections_per_address`` open ones from
  the same client address (a bare 503, then closed), and
- closes a connection whose next request's headers are not in within
  ``header_timeout_seconds`` (from the connection's start or from the end
  of its previous request), so a client trickling header bytes, or sending
  none, does not hold a connection for long.
The body has its own timeout, where it is read (``bodies.read_body``).
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from gateway.config.settings import HttpSettings

log = structlog.get_logger("gateway.transport.http_guard")

_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)


class ConnectionGuard:
    """The state shared by the connections of one listening server."""

    def __init__(self, server: web.Server, http: HttpSettings) -> None:
        self._server = server
        self.http = http
        self.open: Counter[str] = Counter()
        self._by_handler: dict[RequestHandler, _Guarded] = {}
        inner = server.request_handler

        async def watched(request: web.BaseRequest) -> web.StreamResponse:
            # The headers are in once aiohttp hands us the request.
            guard = self._by_handler.get(request.protocol)
            if guard is not None:
                guard.request_started()
            try:
                return await inner(request)
            finally:
                if guard is not None:
                    guard.request_finished()

        # Read by each new connection's handler, so set before listening.
        server.request_handler = watched

    def protocol(self) -> asyncio.Protocol:
        return _Guarded(self)

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.http.max_connections_per_address:
            return False
        self.open[address] += 1
        return True

    def attach(self, guard: _Guarded) -> RequestHandler:
        handler = self._server()
        self._by_handler[handler] = guard
        return handler

    def detach(self, address: str, handler: RequestHandler | None) -> None:
        if handler is not None:
            self._by_handler.pop(handler, None)
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]


class _Guarded(asyncio.Protocol):
    """Stands between the event loop and aiohttp's handler of one connection."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self._inner: RequestHandler | None = None
        self._transport: asyncio.Transport | None = None
        self._address = ""
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen while waiting, for a split blank line
        self._busy = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self._guard.admit(self._address):
            log.warning("http.too_many_connections", client=self._address)
            transport.write(_REFUSAL)
            transport.close()
            return
        self._inner = self._guard.attach(self)
        self._inner.connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._tail = b""
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._guard.http.header_timeout_seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self._busy or self._transport is None:
            return
        if self._transport.get_write_buffer_size():
            self._arm()  # still sending an answer: not the client's delay
            return
        log.info("http.header_timeout", client=self._address)
        self._transport.close()

    def request_started(self) -> None:
        self._busy += 1
        self._disarm()

    def request_finished(self) -> None:
        self._busy -= 1
        if not self._busy and self._transport is not None:
            self._arm()

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            # The blank line ending the headers stops the clock here, not when
            # the handler starts: a loop that was busy for a while runs the
            # expired timer before that handler gets its turn.
            seen = self._tail + data
            if b"\r\n\r\n" in seen:
                self._disarm()
            else:
                self._tail = seen[-3:]
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> None:
        if self._inner is not None:
            self._inner.eof_received()

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._transport = None
        inner, self._inner = self._inner, None
        self._guard.detach(self._address, inner)
        if inner is not None:
            inner.connection_lost(exc)


class GuardedSite(web.BaseSite):
    """``web.TCPSite`` with a ConnectionGuard in front of every connection."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        http: HttpSettings,
        *,
        reuse_port: bool = False,
        sock: socket.socket | None = None,
    ) -> None:
        super().__init__(runner)
        self._host, self._port, self._reuse_port = host, port, reuse_port
        self._sock = sock  # bound beforehand (app.bind), so a busy port fails first
        assert runner.server is not None
        self.guard = ConnectionGuard(runner.server, http)

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is not None and isinstance(self._server, asyncio.Server):
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        if self._sock is not None:
            self._server = await loop.create_server(
                self.guard.protocol, sock=self._sock, backlog=self._backlog
            )
            return
        self._server = await loop.create_server(
            self.guard.protocol,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
            reuse_port=self._reuse_port,
        )


def client_went_away(request: web.Request, exc: BaseException) -> bool:
    """Whether ``exc`` only says that the client closed the connection (an
    aborted upload): nobody is left to answer, and nothing went wrong here."""
    transport = request.transport
    gone = transport is None or transport.is_closing()
    return gone and isinstance(exc, ConnectionError)
