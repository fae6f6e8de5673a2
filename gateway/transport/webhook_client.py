"""POSTing a webhook call: one request, a bounded time, no redirects.

A redirect is not followed (a subscriber's URL is what it registered, and a
redirect could point the signed body anywhere): it is an answer like any
other non-2xx one, and the call is tried again later.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None  # the HTTP status, None when there was no answer
    error: str = ""  # why there was no answer (timeout, refused connection...)


class WebhookClient:
    """One connection pool for every call of a gateway process."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def post(
        self, url: str, payload: bytes, headers: dict[str, str], *, time_limit: float
    ) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                url,
                data=payload,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=time_limit),
            ) as response:
                # The body is not read beyond what arrived: only the status counts.
                return Answer(response.status)
        except TimeoutError:
            return Answer(None, f"no answer within {time_limit:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:300])

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
