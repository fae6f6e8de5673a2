"""When to try a delivery again: exponential backoff with full jitter.

Pure: the caller passes the attempt count, the times and the random draw, so
the schedule is a value a test can check.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.config.settings import DeliverySettings


def next_attempt(
    attempts: int,
    *,
    first_attempt_at: datetime,
    now: datetime,
    policy: DeliverySettings,
    draw: float,
) -> datetime | None:
    """The time of the next attempt after ``attempts`` failed ones, or None
    when the give-up deadline has passed (the job goes to the dead letters).

    ``draw`` is a uniform random number in [0, 1): full jitter spreads retries
    of many documents to one peer that came back, instead of a thundering herd.
    """
    deadline = first_attempt_at + timedelta(seconds=policy.give_up_after_seconds)
    if now >= deadline:
        return None
    ceiling = min(
        policy.max_backoff_seconds,
        policy.initial_backoff_seconds * (2 ** max(attempts - 1, 0)),
    )
    # Half fixed, half jitter: never retry immediately, never all at once.
    delay = ceiling / 2 + (ceiling / 2) * draw
    return min(now + timedelta(seconds=delay), deadline)
