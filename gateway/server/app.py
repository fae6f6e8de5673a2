"""Assembles a running gateway from Settings: store, transport, pipeline,
worker and the HTTP application. The only place that wires things together.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from aiohttp import web

from gateway import log as log_mod
from gateway import portal
from gateway.channels.print_cycle import PrintCycle
from gateway.config import loader as config_mod
from gateway.config.settings import Settings
from gateway.errors import ConfigError, GatewayError, NotFound, StateConflict
from gateway.metrics import CONTENT_TYPE, Metrics
from gateway.model import State
from gateway.server import api, edge, inbox
from gateway.server.health import WriteProbe
from gateway.server.http_metrics import build_labels, metrics_middleware
from gateway.service.channels import portal_key, portal_notices
from gateway.service.delivery import Clock
from gateway.service.intake import Checker
from gateway.service.pipeline import Pipeline
from gateway.service.requeue import RETRYABLE
from gateway.service.webhook_secrets import SecretBox
from gateway.service.webhooks import WebhookService
from gateway.service.worker import Worker
from gateway.store.base import Store
from gateway.store.factory import make_store, sqlite_file
from gateway.transport import bodies
from gateway.transport.as4_client import As4Transport
from gateway.transport.as4_server import as4_routes
from gateway.transport.http_guard import GuardedSite
from gateway.transport.smp_client import SmpClient
from gateway.transport.smp_server import smp_routes

log = structlog.get_logger("gateway.app")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Gateway:
    settings: Settings
    store: Store
    pipeline: Pipeline
    worker: Worker
    metrics: Metrics
    transport: As4Transport
    print_cycle: PrintCycle | None = None  # the daily print close, in the first process only


@contextlib.asynccontextmanager
async def running(
    settings: Settings, *, clock: Clock = utc_now, release: bool = True
) -> AsyncIterator[Gateway]:
    """Open the store and transport, start the worker; undo it all on exit.

    ``release``: this process alone serves the embedded store (or is the
    first of its workers), so whatever a killed predecessor had leased is
    ours to run again, now.
    """
    cfg = settings.store
    store = make_store(cfg.url, prefix=cfg.prefix, sync=cfg.sync, timeout=cfg.timeout_seconds)
    await store.open()
    if release and settings.store.url.startswith("sqlite:"):
        released = await store.release_leases(None)
        if released:
            log.info("store.leases_released", count=released)
        released = await store.release_webhook_leases(None)
        if released:
            log.info("store.webhook_leases_released", count=released)
    transport = As4Transport(settings, timeout=settings.delivery.timeout_seconds)
    metrics = Metrics(build_labels())
    smp = SmpClient(settings, timeout=settings.delivery.timeout_seconds, clock=clock, cache=store)
    checker = Checker(settings.validation.pool_size(), schema_dir=settings.validation.schema_dir)
    pipeline = Pipeline(
        settings, store, transport, metrics=metrics, clock=clock, smp=smp, checker=checker
    )
    worker = Worker(store, pipeline, clock=clock)
    pipeline.wake = worker.wake
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    # The daily print close ([print_house] close_at), in one process only.
    cycle = PrintCycle(
        settings.channels.print_dir,
        network=settings.network.name,
        house=lambda: pipeline.settings.print_house,
        clock=clock,
    )
    closing = asyncio.create_task(cycle.run(stop)) if release else None
    webhooks = _webhooks(settings, store, pipeline, metrics, clock)
    webhook_task = asyncio.create_task(webhooks.run(stop))
    try:
        yield Gateway(
            settings, store, pipeline, worker, metrics, transport, cycle if release else None
        )
    finally:
        stop.set()
        await task
        await pipeline.close()
        if closing is not None:  # an upload in flight is cut: retried at the next start
            closing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closing
        await webhook_task
        await transport.close()
        await smp.close()
        checker.close()
        await store.close()


def _webhooks(
    settings: Settings, store: Store, pipeline: Pipeline, metrics: Metrics, clock: Clock
) -> WebhookService:
    """The webhook relay and sender; their settings follow a reload (through the pipeline)."""
    box = SecretBox(settings.webhooks.key_path(settings.path))
    return WebhookService(
        store, box, lambda: pipeline.settings.webhooks, clock=clock, metrics=metrics
    )


def reload(gw: Gateway) -> tuple[bool, str]:
    """Read the configuration file again and apply it if it is valid.

    Work in flight is not dropped: the pipeline, worker and exchange endpoint
    read the settings in force for each new document or request. An invalid
    file changes nothing. The network's identity (name, key, certificate,
    address) and the store are fixed for the life of the process.
    """
    old = gw.settings
    try:
        new = config_mod.load(old.path)
    except ConfigError as exc:
        log.warning("config.reload_refused", error=exc.message)
        return False, exc.message
    fixed = [
        name
        for name, a, b in (
            ("network", old.network, new.network),
            ("store", old.store, new.store),
            ("channels", old.channels, new.channels),
            ("http", old.http, new.http),
        )
        if a != b
    ]
    gw.settings = new
    gw.pipeline.settings = new
    if new.logging != old.logging:
        log_mod.configure(new.logging.format, new.logging.level)
    note = f"; restart to apply changes to [{', '.join(fixed)}]" if fixed else ""
    log.info("config.reloaded", peers=len(new.peers), participants=len(new.participants))
    for warning in new.warnings:
        log.warning("config.warning", detail=warning)
    return True, f"configuration reloaded from {new.path}{note}"


def make_app(gw: Gateway, *, clock: Clock = utc_now) -> web.Application:
    settings = gw.settings
    app = web.Application(
        middlewares=[
            metrics_middleware(gw.metrics),
            bodies.budget_middleware,
            api.errors_middleware,
        ],
        # Bodies are streamed with our own limit; this only bounds aiohttp's buffer.
        client_max_size=settings.limits.max_document_bytes + 1024 * 1024,
    )
    app[api.PIPELINE] = gw.pipeline
    app[api.STORE] = gw.store
    app[edge.GUARD] = edge.AuthGuard(lambda: gw.settings.limits.auth_failures_per_minute)
    app[bodies.BUDGET] = bodies.InflightBudget(settings.http)
    app.add_routes(api.routes())
    inbox.install(app, clock)
    portal.install(
        app,
        store=gw.store,
        settings=lambda: gw.settings,
        clock=clock,
        key=portal_key(settings),
        notices=portal_notices(settings),
    )
    app.add_routes(as4_routes(settings, gw.pipeline, clock=clock))
    app.add_routes(smp_routes(settings, gw.pipeline.receivable, clock=clock))
    # Room for one more document of the largest size, and its copy in the WAL.
    room = 2 * settings.limits.max_document_bytes
    probe = WriteProbe(gw.store, clock, room=room, timeout=settings.store.timeout_seconds)

    async def healthz(request: web.Request) -> web.Response:
        try:
            depth = await gw.store.outbox_depth()
        except Exception as exc:
            return web.json_response({"status": "unavailable", "store": str(exc)}, status=503)
        problem = await probe.problem()
        if problem is not None:
            return web.json_response({"status": "unavailable", "store": problem}, status=503)
        return web.json_response(
            {"status": "ok", "network": settings.network.name, "outbox": depth}
        )

    async def metrics(request: web.Request) -> web.Response:
        with contextlib.suppress(Exception):
            gw.metrics.outbox_depth.set(await gw.store.outbox_depth())
        for peer in gw.settings.peers:  # every configured peer, not only those used yet
            gw.pipeline.show_peer(peer.name)
        return web.Response(body=gw.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def admin_reload(request: web.Request) -> web.Response:
        request.app[edge.GUARD].authenticate(
            request,
            lambda token: True if gw.settings.is_admin_token(token) else None,
            "admin token required: the one in admin.token beside the config, which "
            "`gateway init` writes (its SHA-256 is [admin] token_sha256)",
        )
        ok, message = reload(gw)
        return web.json_response({"reloaded": ok, "message": message}, status=200 if ok else 422)

    async def admin_retry(request: web.Request) -> web.Response:
        request.app[edge.GUARD].authenticate(
            request,
            lambda token: True if gw.settings.is_admin_token(token) else None,
            "admin token required: the one in admin.token beside the config",
        )
        doc_id = request.match_info["id"]
        found = await gw.pipeline.retry(doc_id, by="an admin (POST /admin/documents/{id}/retry)")
        if found is None:
            raise NotFound(f"no document {doc_id!r}")
        if found not in RETRYABLE:
            raise StateConflict(
                f"document {doc_id} is {found.value}: only a failed or refused document "
                "can be sent out again",
                state=found.value,
            )
        return web.json_response({"id": doc_id, "state": State.REQUEUED.value}, status=202)

    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/metrics", metrics),
            web.post("/admin/reload", admin_reload),
            web.post("/admin/documents/{id}/retry", admin_retry),
        ]
    )
    return app


async def serve(settings: Settings, *, worker_id: int = 0, workers: int = 1) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight work and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    net = settings.network
    # The port first: a process that cannot serve must not touch the store
    # (its start releases leases that a running gateway holds).
    sock = bind(net.listen_host, net.listen_port, reuse_port=workers > 1)
    with contextlib.closing(sock):
        async with running(settings, release=worker_id == 0) as gw:
            loop.add_signal_handler(signal.SIGHUP, reload, gw)
            runner = web.AppRunner(make_app(gw), access_log=None, handle_signals=False)
            await runner.setup()
            site = GuardedSite(runner, net.listen_host, net.listen_port, settings.http, sock=sock)
            await site.start()
            log.info(
                "gateway.listening",
                network=net.name,
                url=f"http://{net.listen_host}:{net.listen_port}",
                portal=net.base_url.rstrip("/") + "/portal/",
                store=settings.store.url.split("://")[0],
                worker=worker_id,
            )
            await stop.wait()
            log.info("gateway.stopping", worker=worker_id)
            await runner.cleanup()


def serve_workers(settings: Settings, workers: int) -> None:
    """Serve with ``workers`` processes on one port (a process per core).

    The first releases the leases a killed predecessor left; the others
    start once it listens. SIGTERM/SIGINT/SIGHUP are passed on to every
    worker; if one dies, the others are stopped and the exit says so.

    This process holds the embedded store's lock file for its whole life,
    so a second gateway on the same store stops before it touches anything.
    """
    with store_lock(settings):
        if workers <= 1:
            asyncio.run(serve(settings))
        else:
            _run_workers(settings, workers)


def _run_workers(settings: Settings, workers: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for worker_id in range(workers):
        proc = ctx.Process(
            target=_worker_main, args=(str(settings.path), worker_id, workers), daemon=False
        )
        proc.start()
        procs.append(proc)
        if worker_id == 0:
            _wait_listening(settings, proc)
            if not proc.is_alive():  # it said why on stderr; start no others
                raise CannotServe(f"worker 0 exited with code {proc.exitcode} before serving")

    def forward(signum: int, _frame: object) -> None:
        for p in procs:
            if p.pid and p.is_alive():
                os.kill(p.pid, signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    while all(p.is_alive() for p in procs):
        time.sleep(0.2)
    forward(signal.SIGTERM, None)
    for p in procs:
        p.join()


def _wait_listening(settings: Settings, proc: multiprocessing.process.BaseProcess) -> None:
    net = settings.network
    host = "127.0.0.1" if net.listen_host in ("0.0.0.0", "") else net.listen_host  # noqa: S104
    deadline = time.monotonic() + 60
    while proc.is_alive() and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, net.listen_port), 0.2):
            return
        time.sleep(0.05)


def _worker_main(config_path: str, worker_id: int, workers: int) -> None:
    settings = config_mod.load(config_path)
    log_mod.configure(settings.logging.format, settings.logging.level)
    try:
        asyncio.run(serve(settings, worker_id=worker_id, workers=workers))
    except GatewayError as exc:
        print(f"gateway: worker {worker_id}: {exc.message}", file=sys.stderr)
        sys.exit(1)


class CannotServe(GatewayError):
    """Another process holds the port or the store."""

    code = "cannot_serve"


def bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A socket bound to ``host:port`` (a port in use fails here); several
    worker processes of one gateway share it with ``reuse_port``. It listens
    only once the site starts, after the store is ready: serve_workers takes
    a connection as the sign that worker 0 has released old leases."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CannotServe(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def store_lock(settings: Settings) -> Iterator[None]:
    """Hold ``<store file>.lock`` (an flock, dropped by the kernel when the
    process dies) while serving an embedded store. A shared Redis has no
    lock: several gateways serve it, and each releases only its own leases."""
    path = sqlite_file(settings.store.url)
    if path is None:
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise CannotServe(
                f"the store {path} is already served by process {holder}"
                f" (it holds the lock {lock_path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
