"""The CacheStore contract for the look-up cache, run against every
implementation (see conftest): values expire by the caller's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.store.base import CacheStore
from tests.store.builders import T0


async def test_cache_keeps_a_value_until_its_ttl_is_over(store: CacheStore) -> None:
    """A cached value reads back byte for byte until its TTL is over: still there 1 µs before,
    gone at the TTL and after."""
    value = bytes(range(256)) + b"::"
    await store.cache_put("smp:0088:1", value, 60, now=T0)

    assert await store.cache_get("smp:0088:1", now=T0) == value
    just_before = T0 + timedelta(seconds=60) - timedelta(microseconds=1)
    assert await store.cache_get("smp:0088:1", now=just_before) == value
    assert await store.cache_get("smp:0088:1", now=T0 + timedelta(seconds=60)) is None
    assert await store.cache_get("smp:0088:1", now=T0 + timedelta(days=1)) is None


async def test_cache_put_replaces_value_and_expiry(store: CacheStore) -> None:
    """Putting a key again replaces both its value and its expiry; an empty value reads back as
    b"", not as absent."""
    await store.cache_put("k", b"old", 10, now=T0)
    await store.cache_put("k", b"", 0.5, now=T0 + timedelta(seconds=5))

    assert await store.cache_get("k", now=T0 + timedelta(seconds=5.4)) == b""
    assert await store.cache_get("k", now=T0 + timedelta(seconds=5.5)) is None


async def test_cache_keys_are_separate_and_unknown_keys_absent(store: CacheStore) -> None:
    """Each key keeps its own value and TTL: one key expiring leaves the others readable, and a key
    never put reads as None."""
    await store.cache_put("a", b"1", 30, now=T0)
    await store.cache_put("b", b"2", 1, now=T0)
    later = T0 + timedelta(seconds=2)
    await store.cache_put("c", b"3", 30, now=later)  # b has expired by now: dropped in passing

    assert await store.cache_get("a", now=later) == b"1"
    assert await store.cache_get("b", now=later) is None
    assert await store.cache_get("c", now=later) == b"3"
    assert await store.cache_get("missing", now=later) is None


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
async def test_cache_refuses_a_ttl_that_is_not_a_positive_number(
    store: CacheStore, ttl: float
) -> None:
    """A TTL of zero, below zero, NaN or infinity is refused with a ValueError naming ttl_seconds,
    and nothing is cached."""
    with pytest.raises(ValueError, match="ttl_seconds"):
        await store.cache_put("k", b"v", ttl, now=T0)

    assert await store.cache_get("k", now=T0) is None
