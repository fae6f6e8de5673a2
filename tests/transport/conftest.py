"""The transport tests' keys and certificates: ``fixed_pki``'s, by the names
these tests use."""

from __future__ import annotations

import pytest

from gateway.pki.certificates import KeyPair
from tests.builders import Pki


@pytest.fixture(scope="session")
def ca(fixed_pki: Pki) -> KeyPair:
    return fixed_pki.ca


@pytest.fixture(scope="session")
def other_ca(fixed_pki: Pki) -> KeyPair:
    """A second CA with the very same name: only its signature tells it apart."""
    return fixed_pki.rogue_ca


@pytest.fixture(scope="session")
def alpha(fixed_pki: Pki) -> KeyPair:
    return fixed_pki.alpha


@pytest.fixture(scope="session")
def beta(fixed_pki: Pki) -> KeyPair:
    return fixed_pki.beta
