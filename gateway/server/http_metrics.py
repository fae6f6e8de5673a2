"""Every HTTP answer counted and timed, by route, method and status.

The route label is the route's pattern (``/api/v1/documents/{id}``), never the
path a client sent, so the number of series stays bounded whatever arrives;
a request that matches no route is counted under ``unmatched``. Refusals
(400, 401, 403, 413, 415, 422, 429, 503) are counted like any other answer,
so an operator sees them without reading logs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.metrics import Metrics

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNMATCHED = "unmatched"


def _route(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None:  # no route: 404 or 405
        return UNMATCHED
    resource = info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def metrics_middleware(metrics: Metrics) -> Middleware:
    """An aiohttp middleware (the outermost) that records each answer in ``metrics``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500  # what the client gets if the handler raises anything else
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            route, method = _route(request), request.method
            metrics.http_requests.labels(route, method, str(status)).inc()
            metrics.http_duration.labels(route, method).observe(time.perf_counter() - start)

    return middleware


def build_labels() -> dict[str, str]:
    """The labels of ``gateway_build_info``: what an operator asks first about a process."""
    from gateway.validation.release import RULES_RELEASE
    from gateway.validation.rules import BUILD

    try:
        release = version("einvoice-gateway")
    except PackageNotFoundError:  # run from a source tree that was never installed
        release = "unknown"
    return {
        "version": release,
        "rules_release": RULES_RELEASE,
        "rules_build": "compiled" if BUILD.compiled else "python",
    }
