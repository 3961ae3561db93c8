"""Instruments both servers carry the same way: garbage-collector pauses and loop lag."""

from __future__ import annotations

import gc
import time
from typing import Any

__all__ = ["Probes"]


class Probes:
    """Collections (full ones apart) and event-loop lag since the last ``reset``."""

    def __init__(self) -> None:
        self._gc_started = 0.0
        self.reset()
        gc.callbacks.append(self._on_gc)

    def reset(self) -> None:
        self.gc_full = 0
        self.gc_full_s = 0.0
        self.gc_full_max_s = 0.0
        self.gc_young = 0  # generations 0 and 1
        self.gc_young_s = 0.0
        self.lags: list[float] = []

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_started
        if info.get("generation") != 2:
            self.gc_young += 1
            self.gc_young_s += took
            return
        self.gc_full += 1
        self.gc_full_s += took
        self.gc_full_max_s = max(self.gc_full_max_s, took)

    def lag(self, seconds: float) -> None:
        """Record how late a periodic wake-up was (called by the loop's own probe task)."""
        self.lags.append(seconds)
        if len(self.lags) > 100_000:
            del self.lags[:50_000]

    def snapshot(self) -> dict[str, Any]:
        lags = sorted(self.lags)
        n = len(lags)
        return {
            "gc_full": self.gc_full,
            "gc_full_ms": round(self.gc_full_s * 1000, 1),
            "gc_full_max_ms": round(self.gc_full_max_s * 1000, 1),
            "gc_young": self.gc_young,
            "gc_young_ms": round(self.gc_young_s * 1000, 1),
            "loop_lag_p99_ms": round(lags[min(n - 1, round(0.99 * (n - 1)))] * 1000, 1)
            if n
            else None,
            "loop_lag_max_ms": round(lags[-1] * 1000, 1) if n else None,
        }


def object_census(top: int = 40) -> dict[str, int]:
    """Live objects tracked by the collector, counted by type (for per-station deltas)."""
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1])[:top])


def memory_top(top: int = 25) -> dict[str, Any]:
    """Where the traced memory lives, by file and by line (needs PYTHONTRACEMALLOC=1)."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {"error": "start the server with PYTHONTRACEMALLOC=1"}
    snapshot = tracemalloc.take_snapshot()
    return {
        "total_kib": round(sum(s.size for s in snapshot.statistics("filename")) / 1024),
        "by_file": [
            (str(s.traceback[0].filename).split("site-packages/")[-1], round(s.size / 1024))
            for s in snapshot.statistics("filename")[:top]
        ],
        "by_line": [
            (
                f"{str(s.traceback[0].filename).split('site-packages/')[-1]}:{s.traceback[0].lineno}",
                round(s.size / 1024),
                s.count,
            )
            for s in snapshot.statistics("lineno")[:top]
        ],
    }
