"""Recipient portal page latency with 10,000 documents for one recipient.

Fills a gateway's store as ``inbox_listing`` does (here 12,500 documents,
80% for the recipient whose portal is read), starts `gateway serve`, signs
in with a one-time link, then asks one page at a time over HTTP on loopback,
so each figure is a whole page's latency end to end (session, store,
template): the inbox's first page, its next pages by cursor, filtered by a
rare state, filtered by sender, and a document page (the invoice as HTML).

Reports p50 and p99 per kind and over all of them (goal: p99 < 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import time
from datetime import UTC, datetime

import aiohttp

from benchmarks.inbox_listing import BUYER, SELLER, served, summary
from gateway.core.signin import new_link, sign_in_url
from gateway.service.channels import portal_key

_NEXT = re.compile(r'id="next-page" href="([^"]+)"')
_DOC = re.compile(r'class="document-link" href="([^"]+)"')


async def _measure(url: str, link: str, rounds: int) -> dict[str, list[float]]:
    kinds: dict[str, list[float]] = {k: [] for k in ("first", "cursor", "state", "sender", "doc")}
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(url + link, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()

        async def get(kind: str | None, path: str) -> str:
            t0 = time.perf_counter()
            async with session.get(url + path) as resp:
                text = await resp.text()
                assert resp.status == 200, text[:500]
            if kind is not None:
                kinds[kind].append(time.perf_counter() - t0)
            return text

        for _ in range(20):  # warm-up: connections, templates
            await get(None, "/portal/")
        for _ in range(rounds):
            page = await get("first", "/portal/")
            doc = _DOC.search(page)
            assert doc is not None
            for _ in range(3):
                found = _NEXT.search(page)
                assert found is not None
                page = await get("cursor", found.group(1).replace("&amp;", "&"))
            await get("state", "/portal/?state=failed")
            await get("sender", f"/portal/?sender={SELLER}")
            await get("doc", doc.group(1))
    return kinds


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--store", choices=["sqlite", "redis"], default="sqlite")
    p.add_argument("--documents", type=int, default=12_500, help="80%% for the recipient")
    p.add_argument("--rounds", type=int, default=200, help="rounds of the 7 pages")
    args = p.parse_args(argv)
    with served(args.store, args.documents, prefix="gw-bench-portal-") as gw:
        link = new_link(str(BUYER), secrets.token_urlsafe(16), datetime.now(UTC))
        path = sign_in_url("", portal_key(gw.settings), link)
        kinds = asyncio.run(_measure(gw.url, path, args.rounds))
    print(summary("portal_pages", kinds, f"store={args.store} documents={args.documents}"))


if __name__ == "__main__":
    main()
