"""Counting and timing CALLs: mergeable log-bucket latency histograms and a fleet recorder."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import trio

__all__ = ["Histogram", "Recorder", "format_table", "merge_summaries"]

_RATIO = math.log(1.02)  # 2 % wide buckets
_FLOOR = 1e-5  # 10 µs


class Histogram:
    """Latencies in 2 %-wide buckets: constant memory, exact merge across processes."""

    __slots__ = ("buckets", "count", "max", "total")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        self.buckets[int(math.log(max(seconds, _FLOOR) / _FLOOR) / _RATIO)] += 1
        self.count += 1
        self.total += seconds
        if seconds > self.max:
            self.max = seconds

    def merge(self, other: Histogram) -> None:
        self.buckets.update(other.buckets)
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)

    def percentile(self, p: float) -> float:
        """The latency (seconds) below which ``p`` percent of the samples fall."""
        if not self.count:
            return 0.0
        rank = p / 100.0 * self.count
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return min(self.max, _FLOOR * math.exp((bucket + 0.5) * _RATIO))
        return self.max

    def to_dict(self) -> dict[str, Any]:
        return {
            "buckets": {str(k): v for k, v in self.buckets.items()},
            "count": self.count,
            "total": self.total,
            "max": self.max,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        histogram = cls()
        histogram.buckets = Counter({int(k): v for k, v in data["buckets"].items()})
        histogram.count = data["count"]
        histogram.total = data["total"]
        histogram.max = data["max"]
        return histogram


class Recorder:
    """A CallObserver shared by a fleet: per-action outcomes and latencies, connection states."""

    def __init__(self, stations: int = 0) -> None:
        self.expected = stations
        self.latency: dict[str, Histogram] = {}
        self.outcomes: dict[str, Counter[str]] = {}
        self.states: dict[str, str] = {}
        self.connected = 0
        self.ever_accepted: set[str] = set()
        self.started_at = trio.current_time()
        self.all_accepted_after: float | None = None
        self.all_accepted = trio.Event()

    def reset_calls(self) -> None:
        """Forget CALL figures so far (start of the measured window)."""
        self.latency = {}
        self.outcomes = {}

    def call_done(self, action: str, seconds: float, outcome: str) -> None:
        outcomes = self.outcomes.get(action)
        if outcomes is None:
            outcomes = self.outcomes[action] = Counter()
            self.latency[action] = Histogram()
        outcomes[outcome] += 1
        if outcome == "ok":
            self.latency[action].add(seconds)

    def station_state(self, charge_box_id: str, state: str) -> None:
        before = self.states.get(charge_box_id)
        self.states[charge_box_id] = state
        if before == "accepted" and state != "accepted":
            self.connected -= 1
        elif state == "accepted" and before != "accepted":
            self.connected += 1
            self.ever_accepted.add(charge_box_id)
            if self.all_accepted_after is None and len(self.ever_accepted) >= self.expected > 0:
                self.all_accepted_after = trio.current_time() - self.started_at
                self.all_accepted.set()

    def total_calls(self) -> int:
        return sum(sum(c.values()) for c in self.outcomes.values())

    def summary(self, elapsed: float) -> dict[str, Any]:
        """JSON-ready figures (latencies in milliseconds)."""
        actions: dict[str, dict[str, Any]] = {}
        for action in sorted(self.outcomes):
            histogram = self.latency[action]
            outcomes = self.outcomes[action]
            actions[action] = {
                "count": sum(outcomes.values()),
                "ok": outcomes["ok"],
                "error": outcomes["error"],
                "timeout": outcomes["timeout"],
                "lost": outcomes["lost"],
                "per_second": round(outcomes["ok"] / elapsed, 2) if elapsed > 0 else 0.0,
                "p50_ms": round(histogram.percentile(50) * 1000, 2),
                "p95_ms": round(histogram.percentile(95) * 1000, 2),
                "p99_ms": round(histogram.percentile(99) * 1000, 2),
                "max_ms": round(histogram.max * 1000, 2),
                "histogram": histogram.to_dict(),
            }
        ok = sum(c["ok"] for c in self.outcomes.values())
        return {
            "stations": self.expected,
            "connected": self.connected,
            "ever_accepted": len(self.ever_accepted),
            "boot_storm_seconds": self.all_accepted_after,
            "elapsed_seconds": round(elapsed, 3),
            "calls_ok": ok,
            "calls_per_second": round(ok / elapsed, 2) if elapsed > 0 else 0.0,
            "actions": actions,
        }


def merge_summaries(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary from the summaries of several load processes run side by side."""
    elapsed = max((p["elapsed_seconds"] for p in parts), default=0.0)
    histograms: dict[str, Histogram] = {}
    counts: dict[str, Counter[str]] = {}
    for part in parts:
        for action, data in part["actions"].items():
            histograms.setdefault(action, Histogram()).merge(Histogram.from_dict(data["histogram"]))
            counter = counts.setdefault(action, Counter())
            for key in ("ok", "error", "timeout", "lost"):
                counter[key] += data[key]
    recorder = Recorder(sum(p["stations"] for p in parts))
    recorder.latency = histograms
    recorder.outcomes = counts
    merged = recorder.summary(elapsed)
    merged["connected"] = sum(p["connected"] for p in parts)
    merged["ever_accepted"] = sum(p["ever_accepted"] for p in parts)
    storms = [p["boot_storm_seconds"] for p in parts]
    merged["boot_storm_seconds"] = None if None in storms or not storms else max(storms)
    merged["processes"] = len(parts)
    boots = [p["boot"] for p in parts if "boot" in p]
    if boots:
        seconds = [b["seconds"] for b in boots]
        merged["boot"] = {
            "seconds": None if None in seconds else max(seconds),
            "accepted": sum(b["accepted"] for b in boots),
        }
    if all("rss_kib" in p for p in parts):
        merged["rss_kib_per_process"] = [p["rss_kib"] for p in parts]
    return merged


def format_table(summary: dict[str, Any]) -> str:
    """The summary as a table for people."""
    head = (
        f"{'action':<30} {'count':>8} {'ok':>8} {'err':>6} {'t/o':>6} {'per s':>9} "
        f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    )
    lines = [head, "-" * len(head)]
    for action, a in summary["actions"].items():
        lines.append(
            f"{action:<30} {a['count']:>8} {a['ok']:>8} {a['error']:>6} {a['timeout']:>6} "
            f"{a['per_second']:>9.1f} {a['p50_ms']:>9.1f} {a['p95_ms']:>9.1f} "
            f"{a['p99_ms']:>9.1f} {a['max_ms']:>9.1f}"
        )
    storm = summary.get("boot_storm_seconds")
    lines.append("-" * len(head))
    lines.append(
        f"stations {summary['stations']}  connected {summary['connected']}  "
        f"boot storm {'-' if storm is None else f'{storm:.2f} s'}  "
        f"calls/s {summary['calls_per_second']:.1f}  elapsed {summary['elapsed_seconds']:.1f} s"
        + (f"  processes {summary['processes']}" if "processes" in summary else "")
    )
    return "\n".join(lines)
