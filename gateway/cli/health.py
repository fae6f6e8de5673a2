"""``gateway health``: whether the gateway of a configuration answers /healthz.

Made for container health checks (the Dockerfile's HEALTHCHECK, compose.yaml):
the port comes from the configuration, so a gateway moved to another port
is still checked where it listens. Exit 0 when /healthz answers 200, else 1
with one line saying why. A configuration that cannot be read is 1 too, not
the usual 2: Docker reserves exit code 2 in health checks.
"""

from __future__ import annotations

import argparse
import json

from gateway.cli import common
from gateway.config.settings import NetworkSettings
from gateway.errors import ConfigError

UNHEALTHY = 1


def healthz_url(net: NetworkSettings) -> str:
    """Where this process reaches the gateway's /healthz: its listen address,
    or loopback when it listens on every address (0.0.0.0, ::)."""
    host = net.listen_host
    if common.is_wildcard(host):
        host = "::1" if ":" in host else "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{net.listen_port}/healthz"


def probe(url: str, timeout: float) -> str | None:
    """None when ``url`` answers 200; else why not, in a few words."""
    import urllib.error  # here, not at the top: every `gateway` command would pay for it
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - http from config
            resp.read()
            return None if resp.status == 200 else f"answered {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"answered {exc.code}{_reason(exc.read())}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no answer ({getattr(reason, 'strerror', None) or reason})"


def _reason(body: bytes) -> str:
    """The store problem /healthz gives with a 503, if it says one."""
    try:
        store = json.loads(body).get("store")
    except (ValueError, AttributeError):
        return ""
    return f": {store}" if store else ""


def cmd_health(args: argparse.Namespace) -> int:
    try:
        settings = common.load(args)
    except ConfigError as exc:
        return common.fail(exc.message, UNHEALTHY)
    url = healthz_url(settings.network)
    problem = probe(url, args.timeout)
    if problem is not None:
        return common.fail(f"unhealthy: {url} {problem}", UNHEALTHY)
    print(f"healthy: {url} answered 200")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = common.command(
        sub,
        "health",
        "check that the gateway of a configuration answers /healthz (for container health checks)",
        ["gateway health --config var/alpha/gateway.toml", "gateway health --timeout 2"],
        notes=f"{common.CONFIG_RULE}\n"
        "Asks http://LISTEN_HOST:LISTEN_PORT/healthz of the configuration (loopback when it\n"
        "listens on 0.0.0.0 or ::). Exit 0 when it answers 200, 1 otherwise (one line why).",
    )
    common.add_config(p)
    p.add_argument(
        "--timeout",
        type=float,
        default=4.0,
        metavar="SECONDS",
        help="how long to wait for the answer (default 4)",
    )
    p.set_defaults(func=cmd_health)
