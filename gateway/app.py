"""Assembles a running gateway from Settings: store, transport, pipeline,
worker and the HTTP application. The only place that wires things together.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from aiohttp import web

from gateway import api, edge
from gateway import config as config_mod
from gateway import log as log_mod
from gateway.config import Settings
from gateway.delivery import Clock
from gateway.errors import ConfigError
from gateway.intake import Checker
from gateway.metrics import CONTENT_TYPE, Metrics
from gateway.pipeline import Pipeline
from gateway.store.base import Store
from gateway.store.factory import make_store
from gateway.transport import bodies
from gateway.transport.as4_client import As4Transport
from gateway.transport.as4_server import as4_routes
from gateway.transport.http_guard import GuardedSite
from gateway.transport.smp_client import SmpClient
from gateway.transport.smp_server import smp_routes
from gateway.worker import Worker

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


@contextlib.asynccontextmanager
async def running(
    settings: Settings, *, clock: Clock = utc_now, release: bool = True
) -> AsyncIterator[Gateway]:
    """Open the store and transport, start the worker; undo it all on exit.

    ``release``: this process alone serves the embedded store (or is the
    first of its workers), so whatever a killed predecessor had leased is
    ours to run again, now.
    """
    store = make_store(settings.store.url, prefix=settings.store.prefix, sync=settings.store.sync)
    await store.open()
    if release and settings.store.url.startswith("sqlite:"):
        released = await store.release_leases(None)
        if released:
            log.info("store.leases_released", count=released)
    transport = As4Transport(settings, timeout=settings.delivery.timeout_seconds)
    metrics = Metrics()
    smp = SmpClient(settings, timeout=settings.delivery.timeout_seconds, clock=clock, cache=store)
    checker = Checker(settings.validation.processes, schema_dir=settings.validation.schema_dir)
    pipeline = Pipeline(
        settings, store, transport, metrics=metrics, clock=clock, smp=smp, checker=checker
    )
    worker = Worker(store, pipeline, clock=clock)
    pipeline.wake = worker.wake
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield Gateway(settings, store, pipeline, worker, metrics, transport)
    finally:
        stop.set()
        await task
        await transport.close()
        await smp.close()
        checker.close()
        await store.close()


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
        middlewares=[bodies.budget_middleware, api.errors_middleware],
        # Bodies are streamed with our own limit; this only bounds aiohttp's buffer.
        client_max_size=settings.limits.max_document_bytes + 1024 * 1024,
    )
    app[api.PIPELINE] = gw.pipeline
    app[api.STORE] = gw.store
    app[edge.GUARD] = edge.AuthGuard(lambda: gw.settings.limits.auth_failures_per_minute)
    app[bodies.BUDGET] = bodies.InflightBudget(settings.http)
    app.add_routes(api.routes())
    app.add_routes(as4_routes(settings, gw.pipeline, clock=clock))
    app.add_routes(smp_routes(settings, gw.pipeline.receivable, clock=clock))

    async def healthz(request: web.Request) -> web.Response:
        try:
            depth = await gw.store.outbox_depth()
        except Exception as exc:
            return web.json_response({"status": "unavailable", "store": str(exc)}, status=503)
        return web.json_response(
            {"status": "ok", "network": settings.network.name, "outbox": depth}
        )

    async def metrics(request: web.Request) -> web.Response:
        with contextlib.suppress(Exception):
            gw.metrics.outbox_depth.set(await gw.store.outbox_depth())
        return web.Response(body=gw.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def admin_reload(request: web.Request) -> web.Response:
        request.app[edge.GUARD].authenticate(
            request,
            lambda token: True if gw.settings.is_admin_token(token) else None,
            "admin token required (set [admin] token_sha256 in the config)",
        )
        ok, message = reload(gw)
        return web.json_response({"reloaded": ok, "message": message}, status=200 if ok else 422)

    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/metrics", metrics),
            web.post("/admin/reload", admin_reload),
        ]
    )
    return app


async def serve(settings: Settings, *, worker_id: int = 0, workers: int = 1) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight work and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running(settings, release=worker_id == 0) as gw:
        loop.add_signal_handler(signal.SIGHUP, reload, gw)
        runner = web.AppRunner(make_app(gw), access_log=None, handle_signals=False)
        await runner.setup()
        net = settings.network
        # Several worker processes share the port: the kernel spreads connections.
        site = GuardedSite(
            runner, net.listen_host, net.listen_port, settings.http, reuse_port=workers > 1
        )
        await site.start()
        log.info(
            "gateway.listening",
            network=net.name,
            url=f"http://{net.listen_host}:{net.listen_port}",
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
    """
    if workers <= 1:
        asyncio.run(serve(settings))
        return
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
    asyncio.run(serve(settings, worker_id=worker_id, workers=workers))
