"""Picks the store implementation from the configured URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from gateway.store.base import Store
from gateway.store.redis import RedisStore
from gateway.store.sqlite import SqliteStore

_REDIS_SCHEMES = ("redis", "rediss", "unix")


def make_store(url: str, *, prefix: str = "gw", sync: str = "full", timeout: float = 5.0) -> Store:
    """``sqlite:///abs/path.db`` for the embedded store; ``redis://``,
    ``rediss://`` or ``unix://`` for a shared Redis."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        return SqliteStore(_sqlite_path(url), sync=sync, timeout=timeout)
    if scheme in _REDIS_SCHEMES:
        return RedisStore(url, prefix=prefix, timeout=timeout)
    # Only the scheme is echoed: the rest of a URL may hold a password.
    shown = f"scheme {scheme!r}" if scheme else "a URL without a scheme"
    raise ValueError(
        f"unsupported store URL ({shown}): expected sqlite:///absolute/path.db, "
        "redis://host:port/db, rediss://host:port/db or unix:///path/to/redis.sock"
    )


def sqlite_file(url: str) -> Path | None:
    """The database file of an embedded store URL; None for Redis."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    return _sqlite_path(url) if scheme == "sqlite" else None


def _sqlite_path(url: str) -> Path:
    parts = urlsplit(url)
    path = Path(unquote(parts.path))
    extra = parts.netloc or parts.query or parts.fragment
    if extra or not path.is_absolute() or path == Path(path.anchor):
        raise ValueError(
            f"store URL {url!r} is not sqlite:///absolute/path.db "
            "(sqlite:// followed by the absolute path of a database file)"
        )
    return path
