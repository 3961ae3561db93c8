"""Station passwords: failed Basic-auth attempts counted per station id and per address.

The same rule as the portal's login throttle: past ``per_station`` failures for one
charge box id, or ``per_address`` from one address, within ``window`` seconds, every
attempt (the right password too) is refused before any database read or password
hash, until the oldest failure leaves the window. Memory is bounded (``max_keys``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["StationAuthThrottle"]


class StationAuthThrottle:
    def __init__(
        self,
        *,
        per_station: int = 10,
        per_address: int = 50,
        window: float = 300.0,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_station = per_station
        self.per_address = per_address
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._bursts: set[str] = set()  # keys throttled since their failures began
        self.blocked = 0

    @staticmethod
    def _keys(charge_box_id: str, address: str) -> tuple[str, str]:
        return f"cb:{charge_box_id}", f"ip:{address}"

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            self._bursts.discard(key)
        return times

    def retry_after(self, charge_box_id: str, address: str) -> tuple[float, bool]:
        """(seconds to wait, whether this starts a new burst), (0.0, False) when allowed."""
        now = self._clock()
        wait = 0.0
        new_burst = False
        station_key, address_key = self._keys(charge_box_id, address)
        for key, limit in ((station_key, self.per_station), (address_key, self.per_address)):
            times = self._recent(key, now)
            if len(times) >= limit:
                wait = max(wait, times[-limit] + self.window - now)
                if key not in self._bursts:
                    self._bursts.add(key)
                    new_burst = True
        if wait > 0:
            self.blocked += 1
        return wait, new_burst

    def failed(self, charge_box_id: str, address: str) -> None:
        now = self._clock()
        for key in self._keys(charge_box_id, address):
            self._failures.setdefault(key, deque(maxlen=1000)).append(now)
        while len(self._failures) > self.max_keys:
            oldest = next(iter(self._failures))
            del self._failures[oldest]
            self._bursts.discard(oldest)

    def succeeded(self, charge_box_id: str) -> bool:
        """The right password: this station's failures stop counting. True when there were
        some (then the shared record is cleared too; a normal connect writes nothing)."""
        station_key, _ = self._keys(charge_box_id, "")
        self._bursts.discard(station_key)
        return self._failures.pop(station_key, None) is not None

    def keys(self, charge_box_id: str, address: str) -> tuple[str, str]:
        """The keys a failure counts under (as recorded in the database)."""
        return self._keys(charge_box_id, address)

    def load(self, ages: dict[str, list[float]]) -> None:
        """Failures recorded before this process started (or by another one): {key: ages
        in seconds, oldest first}, read from ``db.accounts.auth_failures``."""
        now = self._clock()
        for key, seconds in ages.items():
            self._failures[key] = deque((now - age for age in seconds), maxlen=1000)

    def statistics(self) -> dict[str, int]:
        return {"trackedKeys": len(self._failures), "blockedAttempts": self.blocked}
