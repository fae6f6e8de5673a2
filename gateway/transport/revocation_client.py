"""Revocation checks of peers' certificates over HTTP: OCSP first, then CRLs.

``gateway.pki.revocation`` reads and verifies what is fetched here. Answers are
cached until their nextUpdate (a CRL per URL, a verdict per certificate), so
a busy peer costs one fetch per validity period, and a failed look-up is
remembered for RETRY_AFTER so an unreachable server does not add its
timeout to every message.

Modes (``network.revocation``): ``off`` checks nothing; ``soft`` refuses a
revoked certificate but accepts one whose status cannot be learnt (logged as
a warning); ``hard`` refuses both. A certificate that names no CRL or OCSP
responder (development certificates) has nothing to check in any mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from cryptography import x509

from gateway.errors import SecurityError
from gateway.pki import revocation
from gateway.pki.certificates import common_name, fingerprint
from gateway.pki.revocation import RevocationUnavailable, Sources, Verdict

log = structlog.get_logger("gateway.transport.revocation")

MODES = ("off", "soft", "hard")
MAX_CRL_BYTES = 16 * 1024 * 1024
MAX_OCSP_BYTES = 256 * 1024
RETRY_AFTER = timedelta(seconds=30)
# Certificates remembered; only configured peers' certificates get this far,
# so the bound is a safety net, not a working limit.
MAX_REMEMBERED = 10_000


class RevocationChecker:
    """One per process side (server, client); ``cas`` are the trust anchors,
    among which the issuer of a peer's certificate is found."""

    def __init__(self, cas: Sequence[x509.Certificate], *, timeout: float) -> None:
        self._cas = list(cas)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._verdicts: dict[str, Verdict] = {}
        self._failed: dict[str, tuple[datetime, str]] = {}
        self._crls: dict[tuple[str, str], x509.CertificateRevocationList] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._unchecked: dict[str, None] = {}  # certificates naming no source, logged once

    async def check(self, cert: x509.Certificate, *, mode: str, now: datetime, peer: str) -> None:
        """Return if ``cert`` may be used under ``mode``, else raise
        SecurityError (reason "revoked" or "revocation_unknown")."""
        if mode == "off":
            return
        issuer = self._issuer(cert)
        found = revocation.sources(cert)
        fields = {"peer": peer, "serial": format(cert.serial_number, "x"), "cn": common_name(cert)}
        key = fingerprint(cert)
        if issuer is None or not found:
            # Nothing to ask (development certificates name no CRL or OCSP).
            if key not in self._unchecked:
                self._unchecked[key] = None
                _trim(self._unchecked)
                log.info("revocation.no_source", **fields, mode=mode)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        _trim(self._locks)
        async with lock:
            verdict, problem = await self._status(key, cert, issuer, found, now, fields)
        _conclude(verdict, problem, mode, fields)

    def refuse_known_revoked(self, cert: x509.Certificate, *, mode: str, now: datetime) -> None:
        """Raise at once if a cached answer already says ``cert`` is revoked:
        synchronous, so the server can refuse before decrypting anything."""
        cached = self._verdicts.get(fingerprint(cert)) if mode != "off" else None
        if cached is not None and cached.revoked and now <= cached.valid_until:
            fields = {"serial": format(cert.serial_number, "x"), "cn": common_name(cert)}
            _conclude(cached, "", mode, fields)

    async def _status(
        self,
        key: str,
        cert: x509.Certificate,
        issuer: x509.Certificate,
        found: Sources,
        now: datetime,
        fields: dict[str, str | None],
    ) -> tuple[Verdict | None, str]:
        cached = self._verdicts.get(key)
        if cached is not None and now <= cached.valid_until:
            log.debug("revocation.cached", **fields, **_describe(cached))
            return cached, ""
        failed = self._failed.get(key)
        if failed is not None and now < failed[0] + RETRY_AFTER:
            return None, failed[1]
        verdict, problem = await self._look_up(cert, issuer, found, now)
        if verdict is None:
            self._failed[key] = (now, problem)
            _trim(self._failed)
            return None, problem
        self._failed.pop(key, None)
        self._verdicts[key] = verdict
        _trim(self._verdicts)
        log.info("revocation.checked", **fields, **_describe(verdict))
        return verdict, ""

    async def _look_up(
        self, cert: x509.Certificate, issuer: x509.Certificate, found: Sources, now: datetime
    ) -> tuple[Verdict | None, str]:
        """The first usable answer, OCSP responders before CRLs (an OCSP
        answer is small and usually fresher), else every source's problem."""
        problems: list[str] = []
        for url in found.ocsp_urls:
            try:
                answer = await self._fetch(
                    url, MAX_OCSP_BYTES, body=revocation.ocsp_request(cert, issuer)
                )
                verdict = revocation.ocsp_verdict(answer, cert=cert, issuer=issuer, now=now)
                return replace(verdict, url=url), ""
            except RevocationUnavailable as exc:
                problems.append(f"OCSP {url}: {exc}")
        for url in found.crl_urls:
            try:
                crl = await self._crl(url, issuer, now)
                return replace(revocation.crl_verdict(crl, cert, now=now), url=url), ""
            except RevocationUnavailable as exc:
                problems.append(f"CRL {url}: {exc}")
        return None, "; ".join(problems)

    async def _crl(
        self, url: str, issuer: x509.Certificate, now: datetime
    ) -> x509.CertificateRevocationList:
        # One CRL covers every certificate of its CA: kept per URL and issuer.
        key = (url, fingerprint(issuer))
        crl = self._crls.get(key)
        # A CRL without nextUpdate (RFC 5280 requires one) is not kept at all.
        if crl is None or crl.next_update_utc is None or crl.next_update_utc < now:
            crl = revocation.read_crl(await self._fetch(url, MAX_CRL_BYTES), issuer=issuer, now=now)
            self._crls[key] = crl
            _trim(self._crls)
        return crl

    async def _fetch(self, url: str, cap: int, *, body: bytes | None = None) -> bytes:
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                if body is None:
                    call = session.get(url)
                else:
                    headers = {"Content-Type": "application/ocsp-request"}
                    call = session.post(url, data=body, headers=headers, allow_redirects=False)
                async with call as resp:
                    if resp.status != 200:
                        raise RevocationUnavailable(f"HTTP {resp.status}")
                    return await _read_capped(resp, cap)
        except TimeoutError:
            raise RevocationUnavailable(f"no answer within {self._timeout.total} s") from None
        except aiohttp.ClientError as exc:
            raise RevocationUnavailable(f"unreachable ({exc or type(exc).__name__})") from None

    def _issuer(self, cert: x509.Certificate) -> x509.Certificate | None:
        for ca in self._cas:
            if ca.subject == cert.issuer and revocation.issued_by(cert, ca):
                return ca
        return None


def _conclude(
    verdict: Verdict | None, problem: str, mode: str, fields: dict[str, str | None]
) -> None:
    """Log the outcome; raise SecurityError when it refuses the certificate."""
    if verdict is not None and verdict.revoked:
        log.warning("revocation.revoked", **fields, **_describe(verdict))
        raise SecurityError(
            f"the certificate of access point {fields['cn']!r} (serial {fields['serial']}) "
            f"was revoked on {verdict.revoked_at} according to its {verdict.source.upper()}",
            reason="revoked",
        )
    if verdict is None:
        accepted = mode == "soft"
        log.warning("revocation.unknown", **fields, mode=mode, accepted=accepted, why=problem)
        if not accepted:
            raise SecurityError(
                f"the revocation status of access point {fields['cn']!r} "
                f"(serial {fields['serial']}) cannot be checked: {problem}",
                reason="revocation_unknown",
            )


def _trim(remembered: dict[Any, Any]) -> None:
    while len(remembered) > MAX_REMEMBERED:
        del remembered[next(iter(remembered))]


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    if resp.content_length is not None and resp.content_length > cap:
        raise RevocationUnavailable(f"answer of {resp.content_length} bytes, over {cap}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > cap:
            raise RevocationUnavailable(f"answer larger than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(verdict: Verdict) -> dict[str, str]:
    out = {
        "source": verdict.source,
        "url": verdict.url,
        "result": "revoked" if verdict.revoked else "good",
        "valid_until": verdict.valid_until.isoformat(),
    }
    if verdict.revoked:
        out["revoked_at"] = str(verdict.revoked_at)
        out["revocation_reason"] = verdict.reason
    return out
