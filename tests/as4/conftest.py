from __future__ import annotations

import pytest

from tests.as4.helpers import Pki, make_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()
