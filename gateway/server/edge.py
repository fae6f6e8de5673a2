"""Checks at the HTTP edge that every endpoint shares: who is calling
(bearer tokens, with a limit on failed attempts) and whether the caller is
still there.

``AuthGuard`` is the aiohttp glue over ``ratelimit.FailureLimiter``. Failed
authentications are counted per client address and per token prefix (the
first ``PREFIX`` characters of the token presented): the first slows down
one machine guessing, the second many machines guessing one token. Once
either key has failed ``limit`` times within a minute, every attempt with it
gets 429 with Retry-After, before the token is even looked at, so a guess
made while blocked tells nothing. The counts live in the serving process:
with several workers each counts on its own, and a restart forgets them.
The address is the TCP peer's (behind a proxy, the proxy's).

Use: one guard per application (``GUARD``), then in a handler
``guard.authenticate(request, lookup, "unknown token")`` where ``lookup``
maps a token to the caller or None.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from gateway.core.ratelimit import FailureLimiter
from gateway.errors import TooManyRequests, Unauthorized

T = TypeVar("T")
PREFIX = 8
MISSING = "missing bearer token (Authorization: Bearer <token>)"


class AuthGuard:
    def __init__(
        self, limit: Callable[[], int], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit  # read per request: a reload applies at once
        self._clock = clock
        self._limiter = FailureLimiter()

    def authenticate(
        self, request: web.Request, lookup: Callable[[str], T | None], unknown: str
    ) -> T:
        """The caller that ``lookup`` finds for the request's bearer token.

        Raises Unauthorized (missing, malformed or unknown token: one failure
        counted) or TooManyRequests (too many failures lately)."""
        token, keys, now, limit = self._admit(request)
        try:
            found = lookup(_checked(token)) if token is not None else None
        except Unauthorized:
            self._limiter.record(keys, now=now, limit=limit)
            raise
        return self._found(found, token, keys, now, limit, unknown)

    async def authenticate_async(
        self, request: web.Request, lookup: Callable[[str], Awaitable[T | None]], unknown: str
    ) -> T:
        """As ``authenticate``, for a caller looked up in the store."""
        token, keys, now, limit = self._admit(request)
        try:
            found = await lookup(_checked(token)) if token is not None else None
        except Unauthorized:
            self._limiter.record(keys, now=now, limit=limit)
            raise
        return self._found(found, token, keys, now, limit, unknown)

    def _admit(self, request: web.Request) -> tuple[str | None, list[str], float, int]:
        """The token presented and the failure keys, unless blocked (429)."""
        token = _presented_token(request)
        keys = [f"addr:{request.remote}"]
        if token and token.isascii():
            keys.append(f"token:{token[:PREFIX]}")
        now, limit = self._clock(), self._limit()
        wait = self._limiter.retry_after(keys, now=now, limit=limit)
        if wait:
            raise TooManyRequests(
                f"too many failed authentications from this address or with this token; "
                f"retry in {wait} seconds",
                retry_after=wait,
            )
        return token, keys, now, limit

    def _found(
        self,
        found: T | None,
        token: str | None,
        keys: list[str],
        now: float,
        limit: int,
        unknown: str,
    ) -> T:
        if found is None:
            self._limiter.record(keys, now=now, limit=limit)
            raise Unauthorized(unknown if token is not None else MISSING)
        return found


GUARD: web.AppKey[AuthGuard] = web.AppKey("auth_guard", AuthGuard)


def _presented_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _checked(token: str) -> str:
    # aiohttp hands undecodable header bytes over as lone surrogates, which
    # no token contains and which cannot even be hashed.
    if not (token.isascii() and token.isprintable() and " " not in token):
        raise Unauthorized("the bearer token must be printable ASCII without spaces")
    return token
