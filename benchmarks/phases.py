"""The two measured phases: stations held with heartbeats, and sustained persisted load."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    LoadResult,
    LoadRun,
    Server,
    cpu_seconds,
    fresh_copy,
    rss_kib,
    station_ids,
)

__all__ = ["BenchConfig", "run_hold", "run_sustain"]


@dataclass
class BenchConfig:
    workdir: Path
    hold_steps: list[int]
    sustain_steps: list[int]
    procs: int
    outlets: int = 4
    hold_seconds: float = 60.0
    sustain_seconds: float = 30.0
    heartbeat_interval: float = 30.0
    remote_starts: int = 200
    connect_concurrency: int = 1000  # handshakes + boots in flight, over all processes
    settle: float = 3.0  # seconds between "go" and the measured window
    profile: bool = False  # py-spy the server through each window (raw stacks in workdir)
    kinds: list[str] = field(default_factory=lambda: ["gateway", "baseline"])
    templates: dict[str, Path] = field(default_factory=dict)

    def boot_timeout(self, stations: int) -> float:
        """How long the boot phase may take before the window starts anyway."""
        return 30.0 + stations / 40

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["workdir"] = str(self.workdir)
        data["templates"] = {k: str(v) for k, v in self.templates.items()}
        return data


def _start_server(cfg: BenchConfig, kind: str, label: str) -> Server:
    target = cfg.workdir / f"{kind}-{label}.sqlite3"
    fresh_copy(cfg.templates[kind], target)
    db = f"sqlite:///{target}" if kind == "gateway" else str(target)
    server = Server(kind=kind, db=db, log_path=cfg.workdir / f"{kind}.log")
    server.start()
    return server


def _boot_figures(load: LoadResult) -> dict[str, Any]:
    times = load.boot_times
    outlets = load.outlet_times
    return {
        "booted": len(times),
        "boot_storm_s": times[-1] if len(times) == load.stations else None,
        "boot_p50_s": times[len(times) // 2] if times else None,
        "outlets_reported_s": outlets[-1] if len(outlets) == load.stations else None,
    }


def _profile(
    cfg: BenchConfig, server: Server, label: str, seconds: float
) -> subprocess.Popen[bytes] | None:
    """Sample the server with py-spy (non-blocking) for ``seconds``, when asked."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not cfg.profile or not py_spy.exists():
        return None
    out = cfg.workdir / f"profile-{server.kind}-{label}.txt"
    return subprocess.Popen(
        [
            *(str(py_spy), "record", "-p", str(server.pid), "-d", str(max(1, int(seconds)))),
            *("-r", os.environ.get("BENCH_PYSPY_RATE", "50"), "-f", "raw", "--threads"),
            *("--nonblocking", "-o", str(out)),
            # e.g. BENCH_PYSPY_ARGS="--gil" (only the thread holding the GIL) or "--idle"
            *os.environ.get("BENCH_PYSPY_ARGS", "").split(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_profile(profiler: subprocess.Popen[bytes] | None) -> None:
    """End a recording early (py-spy writes what it has on SIGINT)."""
    if profiler is None or profiler.poll() is not None:
        return
    profiler.send_signal(signal.SIGINT)
    try:
        profiler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()


def _load(cfg: BenchConfig, server: Server, stations: int, mode: str) -> LoadRun:
    return LoadRun(
        server,
        stations=stations,
        procs=cfg.procs,
        mode=mode,
        outlets=cfg.outlets,
        heartbeat_interval=cfg.heartbeat_interval,
        connect_concurrency=cfg.connect_concurrency,
        log_path=cfg.workdir / "loadgen.log",
    )


def _batching(lo: dict[str, Any], hi: dict[str, Any]) -> dict[str, Any]:
    """Commits and items per commit over the window (gateway only: its statistics)."""
    out: dict[str, Any] = {}
    for key, items, batches in (
        ("meterBatches", "items", "batches"),
        ("stationBatches", "items", "batches"),
        ("writer", "jobs", "batches"),
    ):
        a, b = lo.get(key) or {}, hi.get(key) or {}
        if batches in b:
            n = b[batches] - a.get(batches, 0)
            out[key] = {
                "batches": n,
                "per_batch": round((b[items] - a.get(items, 0)) / max(1, n), 1),
            }
    for name, key in (("writer_busy_s", "busySeconds"), ("writer_cpu_s", "cpuSeconds")):
        if key in (hi.get("writer") or {}):
            out[name] = round(hi["writer"][key] - (lo.get("writer") or {}).get(key, 0.0), 2)
    return out


def run_hold(cfg: BenchConfig, kind: str, stations: int) -> dict[str, Any]:
    """N stations boot at once, report their outlets, then idle with heartbeats."""
    server = _start_server(cfg, kind, f"hold{stations}")
    try:
        load = _load(cfg, server, stations, "hold")
        profiler = _profile(cfg, server, f"boot{stations}", cfg.boot_timeout(stations))
        load.wait_booted(cfg.boot_timeout(stations))
        _stop_profile(profiler)
        window_lo = time.time() + cfg.settle
        load.go(window_lo, window_lo + cfg.hold_seconds)
        time.sleep(max(0.0, window_lo - time.time()))
        cpu_lo = cpu_seconds(server.pid)
        server.control({"cmd": "reset"}, timeout=30)
        loadavg = os.getloadavg()[0]
        _profile(cfg, server, f"hold{stations}", cfg.hold_seconds - 1)
        time.sleep(cfg.hold_seconds / 2)
        rss_mid = rss_kib(server.pid)
        stats = server.control({"cmd": "stats"}, timeout=30)
        time.sleep(max(0.0, window_lo + cfg.hold_seconds - time.time()))
        cpu_hi = cpu_seconds(server.pid)
        rss_end = rss_kib(server.pid)
        probes = server.control({"cmd": "stats"}, timeout=30).get("probes", {})
        result = load.collect(timeout=cfg.hold_seconds + 120)
    finally:
        server.stop()
    connected = max(1, result.connected_at_window)
    hb = result.latencies.get("Heartbeat", {})
    return {
        "kind": kind,
        "stations": stations,
        "outlets": stations * cfg.outlets,
        **_boot_figures(result),
        "connected_at_window": result.connected_at_window,
        "connected_at_end": result.connected_at_end,
        "server_connected_mid": stats.get("connected"),
        "heartbeats": hb.get("count", 0),
        "heartbeat_p50_ms": _ms(hb.get("p50")),
        "heartbeat_p99_ms": _ms(hb.get("p99")),
        "idle_rss_kib": server.idle_rss_kib,
        "rss_mid_kib": rss_mid,
        "rss_end_kib": rss_end,
        "rss_per_station_kib": round((rss_mid - server.idle_rss_kib) / connected, 1),
        "server_cpu_pct": round(100 * (cpu_hi - cpu_lo) / cfg.hold_seconds, 1),
        "loadgen_cpu_pct": [round(100 * c / cfg.hold_seconds, 1) for c in result.loadgen_cpu_s],
        "procs": result.procs,
        "probes": probes,
        "loadavg_1min": round(loadavg, 2),
        "call_errors": result.call_errors,
        "failures": result.failures,
        "boot_reconnects": result.boot_reconnects,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _rank_ms(ok_sorted: list[float], sent: int, q: float) -> float | None:
    """The q-quantile over ``sent`` commands, failures ranked last; None if it is one."""
    if not sent:
        return None
    index = min(sent - 1, round(q * (sent - 1)))
    return _ms(ok_sorted[index]) if index < len(ok_sorted) else None


def _count_rows(kind: str, path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        if kind == "gateway":
            tables = {"sessions": "charging_session", "meter_samples": "meter_sample"}
        else:
            tables = {"sessions": "transactions", "meter_samples": "meter_values"}
        out = {}
        for label, table in tables.items():
            try:
                out[label] = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            except sqlite3.Error:
                out[label] = -1
        return out
    finally:
        con.close()


def run_sustain(cfg: BenchConfig, kind: str, stations: int) -> dict[str, Any]:
    """N stations each keep one MeterValues call outstanding; remote starts alongside."""
    label = f"sustain{stations}"
    server = _start_server(cfg, kind, label)
    remote: dict[str, Any] = {}
    try:
        load = _load(cfg, server, stations, "sustain")
        load.wait_booted(cfg.boot_timeout(stations))
        window_lo = time.time() + cfg.settle
        load.go(window_lo, window_lo + cfg.sustain_seconds)
        count = min(cfg.remote_starts, stations)
        ids = station_ids(stations)
        targets = [ids[(i * stations) // count] for i in range(count)]
        spread = cfg.sustain_seconds * 0.4

        def remote_starts() -> None:
            remote.update(
                server.control(
                    {
                        "cmd": "remote_start",
                        "targets": targets,
                        "connector": 2,
                        "interval": spread / max(1, count),
                        "timeout": max(2.0, cfg.sustain_seconds * 0.5),
                    },
                    timeout=cfg.sustain_seconds * 3,
                )
            )

        time.sleep(max(0.0, window_lo - time.time()))
        cpu_lo = cpu_seconds(server.pid)
        stats_lo = server.control({"cmd": "stats"}, timeout=30).get("statistics", {})
        server.control({"cmd": "reset"}, timeout=30)
        loadavg = os.getloadavg()[0]
        _profile(cfg, server, label, cfg.sustain_seconds - 1)
        time.sleep(min(1.0, cfg.sustain_seconds * 0.1))
        thread = threading.Thread(target=remote_starts, daemon=True)
        thread.start()
        time.sleep(max(0.0, window_lo + cfg.sustain_seconds - time.time()))
        cpu_hi = cpu_seconds(server.pid)
        rss_end = rss_kib(server.pid)
        stats_hi = server.control({"cmd": "stats"}, timeout=30)
        probes = stats_hi.get("probes", {})
        thread.join(timeout=cfg.sustain_seconds * 2)
        result = load.collect(timeout=cfg.sustain_seconds + 120)
    finally:
        server.stop()
    rows = _count_rows(kind, cfg.workdir / f"{kind}-{label}.sqlite3")
    latencies = sorted(remote.get("latencies", []))
    n = len(latencies)
    by_action = {
        action: {
            "count": v["count"],
            "p50_ms": _ms(v["p50"]),
            "p95_ms": _ms(v["p95"]),
            "p99_ms": _ms(v["p99"]),
        }
        for action, v in sorted(result.latencies.items())
    }
    return {
        "kind": kind,
        "stations": stations,
        **_boot_figures(result),
        "connected_at_window": result.connected_at_window,
        "messages_per_s": round(result.completed_in_window / cfg.sustain_seconds, 1),
        # contention-robust: messages per CPU-second the server actually got
        "messages_per_cpu_s": round(result.completed_in_window / max(0.01, cpu_hi - cpu_lo), 1),
        "meter_values_per_s": round(
            result.latencies.get("MeterValues", {}).get("count", 0) / cfg.sustain_seconds, 1
        ),
        "by_action": by_action,
        "remote_start": {
            "sent": len(targets),
            "ok": n,
            "errors": remote.get("errors", [])[:5],
            "error_count": len(remote.get("errors", [])),
            # over every command sent: one that failed or timed out counts as infinitely slow
            "p50_ms": _rank_ms(latencies, len(targets), 0.50),
            "p99_ms": _rank_ms(latencies, len(targets), 0.99),
            "max_ms": _ms(latencies[-1]) if n and n == len(targets) else None,
            "timeout_s": max(2.0, cfg.sustain_seconds * 0.5),
            # where the time went (benchmarks/chain_trace.py), commands that reached Charging
            "breakdown": remote.get("breakdown", {}),
        },
        "rows_after": rows,
        "batching": _batching(stats_lo, stats_hi.get("statistics", {})),
        "events": stats_hi.get("statistics", {}).get("events"),
        "idle_rss_kib": server.idle_rss_kib,
        "rss_end_kib": rss_end,
        "server_cpu_pct": round(100 * (cpu_hi - cpu_lo) / cfg.sustain_seconds, 1),
        "loadgen_cpu_pct": [round(100 * c / cfg.sustain_seconds, 1) for c in result.loadgen_cpu_s],
        "procs": result.procs,
        "probes": probes,
        "loadavg_1min": round(loadavg, 2),
        "call_errors": result.call_errors,
        "failures": result.failures,
    }
