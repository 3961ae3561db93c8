"""Where an idle station's memory goes, per server: objects by type and traced bytes by line.

Starts each server with ``PYTHONTRACEMALLOC=1``, takes a census before any connection and
again with N stations booted and idle, and prints the difference per station.

Run: ``python -m benchmarks.memory_census [--stations 2000] [--only gateway]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from benchmarks.harness import (
    ROOT,
    LoadRun,
    Server,
    prepare_baseline_db,
    prepare_gateway_db,
    rss_kib,
)

__all__ = ["main"]


def census(kind: str, stations: int, workdir: Path) -> dict[str, object]:
    db_path = workdir / f"census-{kind}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    if kind == "gateway":
        db = prepare_gateway_db(db_path, stations, 4)
    else:
        prepare_baseline_db(db_path, stations)
        db = str(db_path)
    os.environ["PYTHONTRACEMALLOC"] = "1"
    try:
        server = Server(kind=kind, db=db, log_path=workdir / f"census-{kind}.log")
        server.start()
    finally:
        del os.environ["PYTHONTRACEMALLOC"]
    try:
        before = server.control({"cmd": "census"})
        native_before = server.control({"cmd": "native"})
        rss_before = rss_kib(server.pid)
        load = LoadRun(
            server,
            stations=stations,
            procs=1,
            mode="hold",
            outlets=4,
            heartbeat_interval=30,
            connect_concurrency=500,
            log_path=workdir / "census-loadgen.log",
        )
        booted = load.wait_booted(60 + stations / 20)
        time.sleep(2)
        after = server.control({"cmd": "census"})
        native_after = server.control({"cmd": "native"})
        rss_after = rss_kib(server.pid)
        now = time.time()
        load.go(now, now + 0.5)
        load.collect(timeout=60)
    finally:
        server.stop()
    per_type = {
        name: round((count - before["census"].get(name, 0)) / max(1, booted), 2)
        for name, count in after["census"].items()
    }
    lines_before = {line: kib for line, kib, _ in before["memory"].get("by_line", [])}
    by_line = [
        (line, round((kib - lines_before.get(line, 0)) * 1024 / max(1, booted)), count)
        for line, kib, count in after["memory"].get("by_line", [])
    ]
    files_before = dict(before["memory"].get("by_file", []))
    by_file = [
        (name, round((kib - files_before.get(name, 0)) * 1024 / max(1, booted)))
        for name, kib in after["memory"].get("by_file", [])
    ]
    return {
        "kind": kind,
        "stations": booted,
        "rss_per_station_kib_traced": round((rss_after - rss_before) / max(1, booted), 1),
        "traced_per_station_bytes": round(
            (after["memory"].get("total_kib", 0) - before["memory"].get("total_kib", 0))
            * 1024
            / max(1, booted)
        ),
        # the C heap in use and SQLite's share of it (prepared statements, page caches)
        "native_per_station_bytes": {
            key: round((native_after[key] - native_before[key]) * 1024 / max(1, booted))
            for key in ("heap_in_use_kib", "sqlite_kib")
            if key in native_after and key in native_before
        },
        "objects_per_station": {k: v for k, v in per_type.items() if v >= 0.5},
        "bytes_per_station_by_file": sorted(by_file, key=lambda x: -x[1])[:15],
        "bytes_per_station_by_line": sorted(by_line, key=lambda x: -x[1])[:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--only", choices=["gateway", "baseline"])
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    kinds = [args.only] if args.only else ["gateway", "baseline"]
    for kind in kinds:
        print(json.dumps(census(kind, min(args.stations, 10_000), args.workdir), indent=1))


if __name__ == "__main__":
    main()
