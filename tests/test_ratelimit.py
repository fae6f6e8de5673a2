"""The failure limiter alone: time and limit are passed in."""

from __future__ import annotations

from gateway.core.ratelimit import FailureLimiter


def test_a_key_is_blocked_after_limit_failures_until_the_oldest_leaves_the_minute() -> None:
    """After the limit of failures in a minute a key is blocked, with Retry-After until its
    oldest failure is a minute old; other keys are not blocked."""
    lim = FailureLimiter(window=60)
    for t in (0.0, 10.0, 20.0):
        assert lim.retry_after(["a"], now=t, limit=3) == 0
        lim.record(["a"], now=t, limit=3)
    assert lim.retry_after(["a"], now=21.0, limit=3) == 39
    assert lim.retry_after(["b"], now=21.0, limit=3) == 0
    assert lim.retry_after(["b", "a"], now=59.5, limit=3) == 1
    assert lim.retry_after(["a"], now=60.0, limit=3) == 0
    # One more failure: the next oldest (10.0) now bounds the block.
    lim.record(["a"], now=60.0, limit=3)
    assert lim.retry_after(["a"], now=60.0, limit=3) == 10


def test_a_lower_limit_after_a_reload_applies_to_failures_already_counted() -> None:
    """Lowering the limit blocks at once a key whose failures already counted reach the new
    limit."""
    lim = FailureLimiter(window=60)
    for t in (0.0, 1.0):
        lim.record(["a"], now=t, limit=5)
    assert lim.retry_after(["a"], now=2.0, limit=5) == 0
    assert lim.retry_after(["a"], now=2.0, limit=2) == 58


def test_memory_is_bounded_by_forgetting_the_least_recent_key() -> None:
    """With a key limit, the limiter forgets the least recently failed key and keeps the others'
    counts."""
    lim = FailureLimiter(window=60, max_keys=2)
    lim.record(["a"], now=0.0, limit=1)
    lim.record(["b"], now=1.0, limit=1)
    lim.record(["a"], now=2.0, limit=1)  # a is now the most recent
    lim.record(["c"], now=3.0, limit=1)
    assert len(lim) == 2
    assert lim.retry_after(["b"], now=4.0, limit=1) == 0
    assert lim.retry_after(["a"], now=4.0, limit=1) == 58
    assert lim.retry_after(["c"], now=4.0, limit=1) == 59
