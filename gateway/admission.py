"""Connection admission: a cap on connections still in their handshake, descriptors in reserve.

Every accepted TCP connection costs a file descriptor from the same per-process
limit the portal, the database and the worker threads draw on. ``Admission`` keeps
the gateway's share below ``max_open`` (the soft limit minus a reserve), so a flood
of idle connections can never take the last descriptors the portal needs, and holds
at most ``max_pending`` connections that have not finished their WebSocket handshake:
when another arrives, the oldest one still waiting is closed (a station completes its
handshake in milliseconds; an idle or slow-loris client is the one that waits).
"""

from __future__ import annotations

import logging
import resource
from typing import Protocol

import trio

__all__ = ["Admission", "raise_open_file_limit"]

log = logging.getLogger(__name__)


class Closable(Protocol):
    def abort(self) -> None: ...


def raise_open_file_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # e.g. above the kernel's nr_open
            log.warning("could not raise the open-file limit to %s: %s", target, exc)
    return soft


def open_file_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Admission:
    """Counts the gateway's open connections and those still in their handshake."""

    def __init__(self, *, max_pending: int, max_open: int, log_interval: float = 60.0) -> None:
        self.max_pending = max(1, max_pending)
        self.max_open = max(1, max_open)
        self._pending: dict[Closable, None] = {}  # insertion order: the oldest first
        self.open = 0
        self.evicted = 0  # pending connections closed to admit a newer one
        self.refused = 0  # connections closed at once: max_open reached
        self._log_interval = log_interval
        self._logged_at: float | None = None

    def admit(self, stream: Closable) -> bool:
        """Whether to keep a just-accepted connection (counted until ``closed``)."""
        if self.open >= self.max_open:
            self.refused += 1
            self._tell(f"{self.open} connections open, the most kept (descriptors in reserve)")
            return False
        if len(self._pending) >= self.max_pending:
            oldest = next(iter(self._pending))
            del self._pending[oldest]
            self.evicted += 1
            self._tell(f"{self.max_pending} connections in their handshake: closing the oldest")
            oldest.abort()
        self._pending[stream] = None
        self.open += 1
        return True

    def handshaken(self, stream: Closable) -> None:
        self._pending.pop(stream, None)

    def closed(self, stream: Closable) -> None:
        self._pending.pop(stream, None)
        self.open -= 1

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _tell(self, message: str) -> None:
        """One line per interval, however many connections are turned away."""
        now = trio.current_time()
        if self._logged_at is None or now - self._logged_at >= self._log_interval:
            self._logged_at = now
            log.warning("%s (%d evicted, %d refused so far)", message, self.evicted, self.refused)

    def statistics(self) -> dict[str, int]:
        return {
            "open": self.open,
            "pending": len(self._pending),
            "maxOpen": self.max_open,
            "maxPending": self.max_pending,
            "evicted": self.evicted,
            "refused": self.refused,
        }
