"""The revocation checker against a real CRL and OCSP responder on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from structlog.testing import capture_logs

from gateway.errors import SecurityError
from gateway.pki.certificates import KeyPair, create_dev_ca
from gateway.transport.revocation_client import RevocationChecker

from .revocation_pki import Responder, dead_url, issue


@pytest.fixture(scope="module")
def ca() -> KeyPair:
    return create_dev_ca(now=datetime.now(UTC) - timedelta(days=30))


@pytest.fixture
async def responder(ca: KeyPair) -> AsyncIterator[Responder]:
    r = await Responder(ca).start()
    yield r
    await r.stop()


async def _check(
    checker: RevocationChecker, cert: x509.Certificate, mode: str = "soft", **kw: Any
) -> list[dict[str, Any]]:
    """Run one check; the log lines it wrote."""
    with capture_logs() as logs:
        await checker.check(cert, mode=mode, now=kw.get("now") or datetime.now(UTC), peer="alpha")
    return logs


async def test_good_certificate_is_accepted_and_logged(ca: KeyPair, responder: Responder) -> None:
    """A good certificate is accepted after one OCSP request, logged with result, source, serial
    and CN."""
    cert = responder.issue("PALPHA")[1]
    logs = await _check(RevocationChecker([ca[1]], timeout=5), cert, "hard")
    [line] = [x for x in logs if x["event"] == "revocation.checked"]
    assert line["result"] == "good" and line["source"] == "ocsp"
    assert line["serial"] == format(cert.serial_number, "x") and line["cn"] == "PALPHA"
    assert responder.hits == {"ocsp": 1}


@pytest.mark.parametrize("source", ["ocsp", "crl"])
async def test_revoked_certificate_is_refused(
    source: str, ca: KeyPair, responder: Responder
) -> None:
    """A certificate revoked per OCSP or CRL is refused as revoked, logged with its source, after
    one request."""
    cert = responder.issue("PALPHA", ocsp_=source == "ocsp", crl=source == "crl")[1]
    responder.revoked[cert.serial_number] = datetime.now(UTC) - timedelta(days=1)
    with capture_logs() as logs, pytest.raises(SecurityError, match="was revoked") as caught:
        await RevocationChecker([ca[1]], timeout=5).check(
            cert, mode="soft", now=datetime.now(UTC), peer="alpha"
        )
    assert caught.value.details["reason"] == "revoked"
    [line] = [x for x in logs if x["event"] == "revocation.revoked"]
    assert line["source"] == source and line["result"] == "revoked"
    assert responder.hits == {source: 1}


async def test_crl_is_asked_when_ocsp_fails(ca: KeyPair, responder: Responder) -> None:
    """When OCSP is down the CRL is asked, and a revocation there refuses the certificate."""
    cert = responder.issue("PALPHA")[1]
    responder.ocsp_down = True
    responder.revoked[cert.serial_number] = datetime.now(UTC)
    with pytest.raises(SecurityError, match="according to its CRL"):
        await _check(RevocationChecker([ca[1]], timeout=5), cert)
    assert responder.hits == {"ocsp": 1, "crl": 1}


async def test_unreachable_responder_soft_accepts_with_a_warning(ca: KeyPair) -> None:
    """In soft mode, with no responder reachable, the certificate is accepted with a warning
    saying why."""
    cert = issue(ca, "PALPHA", now=datetime.now(UTC), crl_url=dead_url(), ocsp_url=dead_url())[1]
    logs = await _check(RevocationChecker([ca[1]], timeout=5), cert, "soft")
    [line] = [x for x in logs if x["event"] == "revocation.unknown"]
    assert line["log_level"] == "warning" and line["accepted"] is True
    assert "unreachable" in line["why"] and line["cn"] == "PALPHA"


async def test_unreachable_responder_hard_refuses(ca: KeyPair) -> None:
    """In hard mode, with no responder reachable, the certificate is refused as "cannot be
    checked"."""
    cert = issue(ca, "PALPHA", now=datetime.now(UTC), crl_url=dead_url(), ocsp_url=dead_url())[1]
    with pytest.raises(SecurityError, match="cannot be checked") as caught:
        await _check(RevocationChecker([ca[1]], timeout=5), cert, "hard")
    assert caught.value.details["reason"] == "revocation_unknown"


async def test_off_and_certificates_without_sources_fetch_nothing(
    ca: KeyPair, responder: Responder
) -> None:
    """Mode off, and certificates naming no source, make no request (even for a revoked
    certificate), and a missing source is logged once per certificate."""
    checker = RevocationChecker([ca[1]], timeout=5)
    revoked = responder.issue("PALPHA")[1]
    responder.revoked[revoked.serial_number] = datetime.now(UTC)
    await _check(checker, revoked, "off")
    dev = issue(ca, "PDEV", now=datetime.now(UTC))[1]
    logs = await _check(checker, dev, "hard") + await _check(checker, dev, "hard")
    assert not responder.hits
    # Said once per certificate, so an operator sees a peer whose status is never checked.
    assert [(x["event"], x["cn"]) for x in logs] == [("revocation.no_source", "PDEV")]


async def test_answers_are_cached_until_next_update(ca: KeyPair, responder: Responder) -> None:
    """OCSP answers and CRLs are reused until their next update (one CRL serving all its
    certificates), then fetched again."""
    checker = RevocationChecker([ca[1]], timeout=5)
    now = datetime.now(UTC)
    ocsp_cert = responder.issue("POCSP", crl=False)[1]
    crl_certs = [responder.issue(f"PCRL{i}", ocsp_=False)[1] for i in range(2)]
    for cert in (ocsp_cert, *crl_certs):
        await _check(checker, cert, now=now)
        await _check(checker, cert, now=now + timedelta(minutes=30))
    # One OCSP answer for its certificate; one CRL for both of its certificates.
    assert responder.hits == {"ocsp": 1, "crl": 1}
    later = now + timedelta(minutes=61)
    responder.now = lambda: later
    logs = await _check(checker, ocsp_cert, now=later)
    await _check(checker, crl_certs[0], now=later)
    assert responder.hits == {"ocsp": 2, "crl": 2}
    assert [x["result"] for x in logs if x["event"] == "revocation.checked"] == ["good"]


async def test_failure_is_remembered_briefly(ca: KeyPair, responder: Responder) -> None:
    """A responder failure is remembered for a short while without asking again, and then asked
    anew."""
    cert = responder.issue("PALPHA", crl=False)[1]
    responder.ocsp_down = True
    checker = RevocationChecker([ca[1]], timeout=5)
    now = datetime.now(UTC)
    await _check(checker, cert, now=now)
    await _check(checker, cert, now=now + timedelta(seconds=10))
    assert responder.hits == {"ocsp": 1}
    responder.ocsp_down = False
    logs = await _check(checker, cert, now=now + timedelta(minutes=1))
    assert responder.hits == {"ocsp": 2}
    assert [x["result"] for x in logs if x["event"] == "revocation.checked"] == ["good"]
