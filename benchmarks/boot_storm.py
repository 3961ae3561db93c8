"""Boot storms: a fleet's first boot, and the same fleet reconnecting after a restart.

The first boot meets stations the gateway has never seen (each one's configuration is
imported after its BootNotification). The restart is what an operator waits for after
restarting the server: the same database, every station booted and imported before,
all reconnecting at once. Both are timed from the instant every station connects to
its BootNotification Accepted (``boot_storm_s``, the last station) and to its last
outlet reported (``outlets_reported_s``).

Run alone: ``python -m benchmarks.boot_storm --stations 2000`` (prints one JSON line).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    ROOT,
    LoadRun,
    Server,
    cpu_seconds,
    fresh_copy,
    prepare_gateway_db,
    snapshot_code,
)
from benchmarks.phases import BenchConfig, _boot_figures, _load, _profile, _stop_profile

__all__ = ["run_boot_storms"]


def _imported(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        row = con.execute('SELECT COUNT(*) FROM "station" WHERE "config_imported_at" IS NOT NULL')
        return int(row.fetchone()[0])
    finally:
        con.close()


def _storm(
    cfg: BenchConfig, server: Server, stations: int, label: str
) -> tuple[dict[str, Any], LoadRun]:
    """Every station connects at once; figures once all booted and reported their outlets."""
    cpu_lo = cpu_seconds(server.pid)
    loop_lo = _loop_cpu(server.pid)
    writer_lo = _writer(server)
    load: LoadRun = _load(cfg, server, stations, "hold")
    profiler = _profile(cfg, server, label, cfg.boot_timeout(stations))
    load.wait_booted(cfg.boot_timeout(stations))
    _stop_profile(profiler)
    cpu = cpu_seconds(server.pid) - cpu_lo
    loop_cpu = _loop_cpu(server.pid) - loop_lo
    # the load generators on the same cores: their CPU from start-up to every boot
    loadgen_cpu = sum(_cpu_or_zero(proc.pid) for proc in load.popens)
    writer_hi = _writer(server)
    return {
        "server_cpu_s": round(cpu, 2),
        # the event loop's own thread (Trio's main thread: one core at most, the GIL's)
        "loop_cpu_s": round(loop_cpu, 2),
        # the database writer thread: its CPU and its commits while the stations booted
        "writer_cpu_s": round(writer_hi.get("cpuSeconds", 0) - writer_lo.get("cpuSeconds", 0), 2),
        "writer_commits": writer_hi.get("batches", 0) - writer_lo.get("batches", 0),
        "loadgen_cpu_s": round(loadgen_cpu, 2),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }, load


def _loop_cpu(pid: int) -> float:
    """CPU seconds of the server's main thread (the Trio event loop)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:  # exited already
        return 0.0


def _writer(server: Server) -> dict[str, Any]:
    return dict(server.control({"cmd": "stats"}).get("statistics", {}).get("writer") or {})


def _finish(load: LoadRun, figures: dict[str, Any], seconds: float = 1.0) -> dict[str, Any]:
    lo = time.time() + 0.2
    load.go(lo, lo + seconds)
    result = load.collect(timeout=seconds + 120)
    times = result.boot_times
    return {
        **_boot_figures(result),
        "boot_p99_s": times[min(len(times) - 1, round(0.99 * result.stations))] if times else None,
        **figures,
        "call_errors": result.call_errors,
        "failures": result.failures,
        "boot_reconnects": result.boot_reconnects,
    }


def _wait_imports(server: Server, stations: int, timeout: float) -> int:
    """Until the gateway has imported (or failed) every station's configuration."""
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        imports = server.control({"cmd": "stats"}).get("statistics", {}).get("configImports", {})
        done = int(imports.get("imported", 0)) + int(imports.get("failed", 0))
        if done >= stations and not imports.get("queued"):
            break
        time.sleep(0.5)
    return done


def run_boot_storms(cfg: BenchConfig, stations: int) -> dict[str, Any]:
    """The gateway's first boot of ``stations`` new stations, then a server restart and
    the same stations reconnecting (their configuration already imported)."""
    # no idle window to speak of: a station's heartbeat sleep must not outlast it
    cfg = dataclasses.replace(cfg, heartbeat_interval=min(cfg.heartbeat_interval, 1.0))
    target = cfg.workdir / f"gateway-restart{stations}.sqlite3"
    fresh_copy(cfg.templates["gateway"], target)
    log_path = cfg.workdir / "gateway.log"
    server = Server(kind="gateway", db=f"sqlite:///{target}", log_path=log_path)
    server.start()
    try:
        figures, load = _storm(cfg, server, stations, f"firstboot{stations}")
        imports_s = time.monotonic()
        _wait_imports(server, stations, timeout=60 + stations / 20)
        figures["imports_done_s"] = round(time.monotonic() - imports_s, 1)
        first = _finish(load, figures)
    finally:
        server.stop()
    first["imported"] = _imported(target)
    server = Server(kind="gateway", db=f"sqlite:///{target}", log_path=log_path)
    server.start()  # the same database: every station booted and imported before
    try:
        figures, load = _storm(cfg, server, stations, f"restart{stations}")
        stats = server.control({"cmd": "stats"}).get("statistics", {})
        figures["config_imports"] = stats.get("configImports")
        figures["station_batches"] = stats.get("stationBatches")
        restart = _finish(load, figures)
    finally:
        server.stop()
    return {"kind": "gateway", "stations": stations, "first_boot": first, "restart": restart}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.boot_storm", description=__doc__)
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument(
        "--connect-concurrency", type=int, default=1000, help="handshakes + boots in flight"
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-boot")
    parser.add_argument("--profile", action="store_true", help="py-spy the server's storms")
    parser.add_argument(
        "--code", type=Path, help="run the server from this earlier snapshot (A/B on one code)"
    )
    args = parser.parse_args(argv)
    stations = max(1, min(10_000, args.stations))
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cfg = BenchConfig(
        workdir=workdir, hold_steps=[stations], sustain_steps=[], procs=max(1, args.procs)
    )
    cfg.profile = args.profile
    cfg.connect_concurrency = max(1, args.connect_concurrency)
    code = snapshot_code(args.code.resolve(), reuse=True) if args.code else None
    if code is None:
        code = snapshot_code(workdir / "code")
    template = workdir / "template-gateway.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{template}{suffix}").unlink(missing_ok=True)
    prepare_gateway_db(template, stations, cfg.outlets)
    cfg.templates = {"gateway": template}
    result = run_boot_storms(cfg, stations)
    result["code"] = code
    result["loadavg_at_end"] = os.getloadavg()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
