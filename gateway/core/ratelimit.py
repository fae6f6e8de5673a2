"""Counting failures per key over a sliding minute, to slow down guessing.

Pure: no I/O and no clock; the caller passes the time (monotonic seconds)
and the limit in force, so a configuration reload applies at once. The HTTP
glue is in ``gateway.server.edge``.

For each key the times of its last ``limit`` failures are kept. A key is
blocked while it has ``limit`` failures less than ``window`` seconds old,
that is until its oldest kept failure leaves the window. Attempts refused
while blocked are not counted, so the block ends on time even under a
steady stream of attempts. Memory is bounded: at most ``max_keys`` keys are
tracked, and the key that failed least recently is forgotten first.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Iterable


class FailureLimiter:
    def __init__(self, *, window: float = 60.0, max_keys: int = 50_000) -> None:
        if window <= 0 or max_keys <= 0:
            raise ValueError("window and max_keys must be positive")
        self._window = window
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, keys: Iterable[str], *, now: float, limit: int) -> int:
        """Whole seconds until every key in ``keys`` may try again; 0: now."""
        wait = 0.0
        for key in keys:
            times = self._failures.get(key)
            if times is not None and len(times) >= limit:
                wait = max(wait, times[-limit] + self._window - now)
        return math.ceil(wait) if wait > 0 else 0

    def record(self, keys: Iterable[str], *, now: float, limit: int) -> None:
        """One failed attempt, counted against each of ``keys``."""
        for key in keys:
            times = self._failures.pop(key, None)
            if times is None:
                times = deque()
                while len(self._failures) >= self._max_keys:
                    self._failures.popitem(last=False)
            times.append(now)
            while len(times) > limit:
                times.popleft()
            self._failures[key] = times  # now the most recently failed

    def __len__(self) -> int:
        return len(self._failures)
