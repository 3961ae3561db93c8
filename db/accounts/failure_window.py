"""Failed attempts counted per key in a sliding window, in memory: the core of the portal's
login throttle and the gateway's station-password throttle (``auth_failures`` is their
shared record in the database)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

__all__ = ["FailureWindow"]


class FailureWindow:
    """Failure times per key (``"ip:10.0.0.1"``, ``"cb:CP1"``…) within ``window`` seconds.

    ``wait(limits)`` is how long a new attempt must wait: past ``limit`` recent failures of
    a key, until the oldest of the last ``limit`` leaves the window. Memory is bounded: past
    ``max_keys`` keys the oldest are dropped, and a key keeps its last ``per_key`` times.
    """

    def __init__(
        self,
        *,
        window: float,
        max_keys: int = 50_000,
        per_key: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_keys = max_keys
        self.per_key = per_key
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self.blocked = 0  # attempts that had to wait

    def __len__(self) -> int:
        return len(self._failures)

    def __contains__(self, key: object) -> bool:
        return key in self._failures

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def wait(self, limits: Iterable[tuple[str, int]]) -> tuple[float, list[str]]:
        """(seconds to wait, the keys over their limit); (0.0, []) when allowed."""
        now = self.clock()
        wait, over = 0.0, []
        for key, limit in limits:
            times = self._recent(key, now)
            if len(times) >= limit:
                wait = max(wait, times[-limit] + self.window - now)
                over.append(key)
        if wait > 0:
            self.blocked += 1
        return wait, over

    def failed(self, keys: Iterable[str]) -> list[str]:
        """Count a failure under each of ``keys``; the keys dropped to stay in bounds."""
        now = self.clock()
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=self.per_key)).append(now)
        dropped = []
        while len(self._failures) > self.max_keys:
            oldest = next(iter(self._failures))
            del self._failures[oldest]
            dropped.append(oldest)
        return dropped

    def forget(self, key: str) -> bool:
        """The key's failures stop counting; True when it had some."""
        return self._failures.pop(key, None) is not None

    def load(self, key: str, ages: Iterable[float]) -> None:
        """Replace what is known of ``key`` by failures ``ages`` seconds old, oldest first
        (read from the database: other processes' and earlier runs' failures)."""
        now = self.clock()
        times = deque((now - age for age in ages), maxlen=self.per_key)
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
