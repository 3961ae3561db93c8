"""Station passwords: failed Basic-auth attempts counted per station id and per address.

The same rule as the portal's login throttle: past ``per_station`` failures for one
charge box id, or ``per_address`` from one address, within ``window`` seconds, every
attempt (the right password too) is refused before any database read or password
hash, until the oldest failure leaves the window. Memory is bounded (``max_keys``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from db.accounts.failure_window import FailureWindow

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
        self._failures = FailureWindow(window=window, max_keys=max_keys, per_key=1000, clock=clock)
        self._bursts: set[str] = set()  # keys throttled since their failures began

    @property
    def window(self) -> float:
        return self._failures.window

    @property
    def blocked(self) -> int:
        return self._failures.blocked

    @staticmethod
    def _keys(charge_box_id: str, address: str) -> tuple[str, str]:
        return f"cb:{charge_box_id}", f"ip:{address}"

    def retry_after(self, charge_box_id: str, address: str) -> tuple[float, bool]:
        """(seconds to wait, whether this starts a new burst), (0.0, False) when allowed."""
        station_key, address_key = self._keys(charge_box_id, address)
        wait, over = self._failures.wait(
            ((station_key, self.per_station), (address_key, self.per_address))
        )
        for key in (station_key, address_key):
            if key not in self._failures:  # its failures left the window: a new burst may begin
                self._bursts.discard(key)
        new_burst = any(key not in self._bursts for key in over)
        self._bursts.update(over)
        return wait, new_burst

    def failed(self, charge_box_id: str, address: str) -> None:
        dropped = self._failures.failed(self._keys(charge_box_id, address))
        self._bursts.difference_update(dropped)

    def succeeded(self, charge_box_id: str) -> bool:
        """The right password: this station's failures stop counting. True when there were
        some (then the shared record is cleared too; a normal connect writes nothing)."""
        station_key, _ = self._keys(charge_box_id, "")
        self._bursts.discard(station_key)
        return self._failures.forget(station_key)

    def keys(self, charge_box_id: str, address: str) -> tuple[str, str]:
        """The keys a failure counts under (as recorded in the database)."""
        return self._keys(charge_box_id, address)

    def load(self, ages: dict[str, list[float]]) -> None:
        """Failures recorded before this process started (or by another one): {key: ages
        in seconds, oldest first}, read from ``db.accounts.auth_failures``."""
        for key, seconds in ages.items():
            self._failures.load(key, seconds)

    def statistics(self) -> dict[str, int]:
        return {"trackedKeys": len(self._failures), "blockedAttempts": self.blocked}
