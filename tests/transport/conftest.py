"""Shared keys and certificates for the transport tests (one dev CA per worker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.pki.certificates import KeyPair, create_dev_ca, issue_ap_certificate

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALPHA = "PALPHA001"
BETA = "PBETA001"


@pytest.fixture(scope="session")
def ca() -> KeyPair:
    return create_dev_ca(now=NOW - timedelta(days=30))


@pytest.fixture(scope="session")
def other_ca() -> KeyPair:
    """A second CA with the very same name: only its signature tells it apart."""
    return create_dev_ca(now=NOW - timedelta(days=30))


@pytest.fixture(scope="session")
def alpha(ca: KeyPair) -> KeyPair:
    return issue_ap_certificate(ca, ALPHA, now=NOW - timedelta(days=1), days=365)


@pytest.fixture(scope="session")
def beta(ca: KeyPair) -> KeyPair:
    return issue_ap_certificate(ca, BETA, now=NOW - timedelta(days=1), days=365)
