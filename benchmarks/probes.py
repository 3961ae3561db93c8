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


def native_memory(trim: bool = False) -> dict[str, Any]:
    """Where the process's C heap stands (glibc ``mallinfo2``: in use vs free in the
    arenas, mmapped), what SQLite holds of it, and Python's small-object allocator;
    ``trim``: hand free heap pages back to the system first (``malloc_trim(0)``), to see
    how much of the RSS is freed memory that was kept, not live memory."""
    import ctypes
    import ctypes.util
    import sys

    out: dict[str, Any] = {}
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if trim:
            out["trimmed"] = bool(libc.malloc_trim(0))

        class MallInfo2(ctypes.Structure):
            _fields_ = [
                (name, ctypes.c_size_t)
                for name in (
                    "arena",
                    "ordblks",
                    "smblks",
                    "hblks",
                    "hblkhd",
                    "usmblks",
                    "fsmblks",
                    "uordblks",
                    "fordblks",
                    "keepcost",
                )
            ]

        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
        out["heap_kib"] = info.arena // 1024  # non-mmapped, all arenas
        out["heap_in_use_kib"] = info.uordblks // 1024
        out["heap_free_kib"] = info.fordblks // 1024
        out["mmapped_kib"] = info.hblkhd // 1024
    except (OSError, AttributeError) as exc:
        out["libc_error"] = repr(exc)
    try:
        sqlite = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        sqlite.sqlite3_memory_highwater.restype = ctypes.c_int64
        out["sqlite_kib"] = sqlite.sqlite3_memory_used() // 1024
        out["sqlite_highwater_kib"] = sqlite.sqlite3_memory_highwater(0) // 1024
    except (OSError, AttributeError) as exc:
        out["sqlite_error"] = repr(exc)
    blocks = sys.getallocatedblocks()
    out["python_blocks"] = blocks
    return out
