"""What every ``gateway`` command shares: how it finds its configuration,
how a client finds the running gateway, one-line failures, the store.

One rule for every command (each ``--help`` repeats it):

* the configuration is ``--config FILE``, else ``$GATEWAY_CONFIG``, else
  ``./gateway.toml``; a file that is not there is "not found", named with
  where the name came from;
* a client of a running gateway (send, status, documents...) takes the URL
  from ``--url``, else ``$GATEWAY_URL``, else the configuration's
  ``network.base_url``; the sender token from ``--token``, else
  ``--token-file``, else ``$GATEWAY_TOKEN``, else ``sender.token`` beside the
  configuration. The configuration is read only for what is not given.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.config import loader as config_mod
from gateway.config.settings import Settings
from gateway.errors import ConfigError

if TYPE_CHECKING:  # the store (and redis) is imported only by commands that use it
    from gateway.store.base import Store

T = TypeVar("T")
DEFAULT_CONFIG = "gateway.toml"
SENDER_TOKEN_FILE = "sender.token"  # noqa: S105 - a file name, not a secret

CONFIG_RULE = "configuration: --config FILE, else $GATEWAY_CONFIG, else ./gateway.toml"
CLIENT_RULE = (
    "gateway URL: --url, else $GATEWAY_URL, else network.base_url of the configuration\n"
    "sender token: --token, else --token-file, else $GATEWAY_TOKEN, else sender.token\n"
    "  beside the configuration (the configuration is read only for what is not given)"
)


def fail(message: str, code: int = 2) -> int:
    print(f"gateway: {message}", file=sys.stderr)
    return code


# --- parsers ----------------------------------------------------------------------------


def command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help: str,
    examples: list[str],
    *,
    notes: str = "",
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A sub-command whose ``--help`` ends with examples (and ``notes``, such as
    the configuration rule), kept as written."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
    if notes:
        epilog += "\n\n" + notes
    return sub.add_parser(
        name,
        help=help,
        description=description or help[:1].upper() + help[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        help="gateway.toml to use (default: $GATEWAY_CONFIG, else ./gateway.toml)",
    )


def add_client(p: argparse.ArgumentParser) -> None:
    """Options of a command that talks to a running gateway's sender API."""
    add_config(p)
    p.add_argument("--url", help="base URL of the gateway, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", help="sender bearer token")
    p.add_argument("--token-file", metavar="FILE", help="file holding the sender token")
    p.add_argument("--json", action="store_true", help="print the raw JSON answer")


# --- configuration ----------------------------------------------------------------------


def config_path(args: argparse.Namespace) -> tuple[Path, str]:
    """The configuration file the command means, and where that name came from."""
    if getattr(args, "config", None):
        return Path(args.config), "--config"
    if os.environ.get("GATEWAY_CONFIG"):
        return Path(os.environ["GATEWAY_CONFIG"]), "$GATEWAY_CONFIG"
    return Path(DEFAULT_CONFIG), "the default, ./gateway.toml"


def load(args: argparse.Namespace) -> Settings:
    path, origin = config_path(args)
    if not path.is_file():
        raise ConfigError(
            str(path), "", f"config file not found (from {origin}); give --config FILE"
        )
    return config_mod.load(path)


def endpoint(args: argparse.Namespace) -> tuple[str, str]:
    """The running gateway's base URL and the sender token, by the rule above."""
    url = args.url or os.environ.get("GATEWAY_URL")
    token = args.token
    if token is None and args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(args.token_file, "", f"cannot read: {exc.strerror}") from None
    token = token or os.environ.get("GATEWAY_TOKEN")
    if not url or not token:
        path, origin = config_path(args)
        if not path.is_file():
            raise ConfigError(
                str(path),
                "",
                f"config file not found (from {origin}); give --config FILE, or --url and --token",
            )
        settings = config_mod.load(path)
        url = url or settings.network.base_url
        token_file = settings.path.parent / SENDER_TOKEN_FILE
        if not token:
            if not token_file.is_file():
                raise ConfigError(
                    str(settings.path), "", f"no {token_file}: give --token or --token-file"
                )
            token = token_file.read_text(encoding="utf-8").strip()
    return url.rstrip("/"), token


# --- addresses ------------------------------------------------------------------------


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means "every address" (0.0.0.0, ::): fine to listen on,
    meaningless to a peer that has to connect to it."""
    if host in ("", "*"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:  # a host name
        return False


# --- HTTP and store ---------------------------------------------------------------------


def http(
    method: str,
    url: str,
    token: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - http(s) from config
    req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"error": "http_error", "message": raw[:200].decode(errors="replace")}


def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the configured store, run ``work`` on it, close it."""
    from gateway.store.factory import make_store

    st = settings.store
    try:
        store = make_store(st.url, prefix=st.prefix, sync=st.sync)
    except ValueError as exc:
        raise ConfigError(str(settings.path), "store.url", str(exc)) from None

    async def run() -> T:
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    import asyncio  # here, not at the top: `gateway validate` starts without it

    return asyncio.run(run())
