"""Poisoned stations: honest stations' MeterValues/s with and without 5 % of stations
sending values no column can hold (issue 11, point 1).

``python -m benchmarks.poison_bench`` runs the gateway (``benchmarks/gateway_runner.py``,
default ``GatewayConfig``, SQLite) in its own process, and the load generator
(``benchmarks/loadgen.py``, sustain mode: every station keeps exactly one MeterValues
call outstanding) against it, alternately with ``--honest`` stations alone and with
``--poisoned`` more (every 21st station: 5 of 105) whose MeterValues carry the energy
register ``1e30`` and expect a CALLERROR. Each run: a fresh database copy and server
process, a ``--seconds`` window after every station has booted. Bounded: about
``rounds x 2 x (seconds + 15)`` seconds. Prints a Markdown section.

``--code DIR`` runs server and load generator from an earlier snapshot (see
``benchmarks.harness.snapshot_code``), e.g. the code before the fix, for an A/B.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.harness import (
    PYTHON,
    LoadRun,
    Server,
    cpu_seconds,
    fresh_copy,
    machine_info,
    prepare_gateway_db,
    snapshot_code,
)

__all__ = ["main"]


def run_once(
    template: Path,
    workdir: Path,
    *,
    stations: int,
    poison_every: int,
    seconds: float,
    tag: str,
    flood: bool = False,
) -> dict[str, Any]:
    db = workdir / f"{tag}.sqlite3"
    fresh_copy(template, db)
    server = Server("gateway", f"sqlite:///{db}", workdir / f"{tag}-server.log")
    server.start()
    try:
        extra = ("--poison-every", str(poison_every)) if poison_every else ()
        load = LoadRun(
            server,
            stations=stations,
            procs=1,
            mode="sustain",
            outlets=2,
            heartbeat_interval=30.0,
            connect_concurrency=200,
            log_path=workdir / f"{tag}-loadgen.log",
            extra_args=extra,
        )
        booted = load.wait_booted(60)
        window_lo = time.time() + 1.0
        window_hi = window_lo + seconds
        load.go(window_lo, window_hi)
        time.sleep(max(0.0, window_lo - time.time()))
        cpu_lo = cpu_seconds(server.pid)
        flooder = (
            subprocess.Popen(
                [
                    *(PYTHON, "-m", "benchmarks.flood", "--port", str(server.port)),
                    *("--seconds", str(seconds)),
                ],
                cwd=harness.CODE_ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            if flood
            else None
        )
        time.sleep(max(0.0, window_hi - time.time()))
        cpu_hi = cpu_seconds(server.pid)
        flooded = json.loads(flooder.communicate(timeout=60)[0]) if flooder else {}
        stats = server.control({"cmd": "stats"}).get("statistics", {})
        result = load.collect(seconds + 60)
    finally:
        server.stop()
    with sqlite3.connect(db) as rows:
        written = {
            table: rows.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in ("alarm", "event")
        }
    meter = result.latencies.get("MeterValues", {})
    poisoned = stations // poison_every if poison_every else 0
    return {
        "tag": tag,
        "stations": stations,
        "poisoned": poisoned,
        "booted": booted,
        "honest_meter_values_per_s": meter.get("count", 0) / seconds,
        "p50_ms": 1000 * meter["p50"] if meter else None,
        "p99_ms": 1000 * meter["p99"] if meter else None,
        "poisoned_call_errors": result.call_errors.get("MeterValues", 0),
        "failures": result.failures,
        "server_cpu": (cpu_hi - cpu_lo) / seconds,
        "meter_batches": stats.get("meterBatches", {}),
        "flood": flooded,
        "rows_written": written,
        "refusals": stats.get("refusals", {}),
    }


def render(results: dict[str, Any]) -> str:
    runs = results["runs"]
    clean = [r for r in runs if not r["poisoned"]]
    dirty = [r for r in runs if r["poisoned"]]

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows if r[key] is not None)

    for r in runs:  # honest work per second of server CPU: robust to other load
        r["per_cpu_s"] = r["honest_meter_values_per_s"] / r["server_cpu"] if r["server_cpu"] else 0
    rate_clean = median(clean, "honest_meter_values_per_s")
    rate_dirty = median(dirty, "honest_meter_values_per_s")
    cpu_clean, cpu_dirty = median(clean, "per_cpu_s"), median(dirty, "per_cpu_s")

    def change(clean: float, dirty: float) -> str:
        return f"{100 * (dirty - clean) / clean:+.1f} %" if clean else "n/a"

    out = [
        "## Poisoned stations (`benchmarks/poison_bench.py`)",
        "",
        f"{results['honest']} honest stations, each keeping one MeterValues call outstanding"
        " (two sampled values), alone and with 5 of 105 stations (every 21st) whose"
        " MeterValues carry the energy register `1e30`; honest MeterValues acknowledged per"
        f" second over a {results['seconds']:g} s window, a fresh gateway process and"
        " database per run, runs alternating, median of the rounds.",
        f"Command: `{results['command']}` (started {results['started']} UTC, took"
        f" {results['elapsed_s']:.0f} s); code {results['code']}; load average at start"
        f" {', '.join(f'{x:.2f}' for x in results['machine']['loadavg_at_start'])} (2 shared"
        " cores: other work ran beside it).",
        "",
        "| run | stations (poisoned) | honest MeterValues/s | per server CPU-s | p50 / p99 |"
        " server CPU | poisoned answered | meter batches (retried) |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for r in runs:
        batches = r["meter_batches"]
        out.append(
            f"| {r['tag']} | {r['stations']} ({r['poisoned']}) |"
            f" {r['honest_meter_values_per_s']:,.0f} | {r['per_cpu_s']:,.0f} |"
            f" {r['p50_ms']:.1f} ms / {r['p99_ms']:.1f} ms | {100 * r['server_cpu']:.0f} % |"
            f" {r['poisoned_call_errors']:,} CALLERROR |"
            f" {batches.get('batches', 0):,} ({batches.get('retried', 0):,}) |"
        )
    out += [
        "",
        f"**Honest MeterValues/s (median): {rate_clean:,.0f} alone, {rate_dirty:,.0f} with 5 %"
        f" poisoned stations ({change(rate_clean, rate_dirty)}); per server CPU-second"
        f" {cpu_clean:,.0f} and {cpu_dirty:,.0f} ({change(cpu_clean, cpu_dirty)}).**"
        " Target: within 10 %.",
        "",
    ]
    return "\n".join(out)


def render_flood(results: dict[str, Any]) -> str:
    runs = results["runs"]
    for r in runs:
        r["per_cpu_s"] = r["honest_meter_values_per_s"] / r["server_cpu"] if r["server_cpu"] else 0
    out = [
        "## Unknown charge box ids flooding (`benchmarks/poison_bench.py --mode flood`)",
        "",
        f"{results['honest']} honest stations as above, alone and while `benchmarks/flood.py`"
        " keeps 20 handshakes with fresh random charge box ids in flight; a"
        f" {results['seconds']:g} s window, a fresh gateway process and database per run.",
        f"Command: `{results['command']}` (started {results['started']} UTC, took"
        f" {results['elapsed_s']:.0f} s); code {results['code']}; load average at start"
        f" {', '.join(f'{x:.2f}' for x in results['machine']['loadavg_at_start'])}.",
        "",
        "| run | honest MeterValues/s | per server CPU-s | p50 / p99 | server CPU |"
        " unknown-id attempts | alarm / event rows in the database after the run |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for r in runs:
        flood = r.get("flood") or {}
        attempts = (
            f"{flood['attempts']:,} ({flood['per_s']:,.0f}/s)" if flood.get("attempts") else "—"
        )
        rows = r.get("rows_written", {})
        out.append(
            f"| {r['tag']} | {r['honest_meter_values_per_s']:,.0f} | {r['per_cpu_s']:,.0f} |"
            f" {r['p50_ms']:.1f} ms / {r['p99_ms']:.1f} ms | {100 * r['server_cpu']:.0f} % |"
            f" {attempts} | {rows.get('alarm', 0):,} / {rows.get('event', 0):,} |"
        )
    return "\n".join([*out, ""])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=100)
    parser.add_argument("--poison-every", type=int, default=21, help="every Nth station")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("var/poison"))
    parser.add_argument("--code", type=Path, help="run from this snapshot (an A/B)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--mode",
        choices=["poison", "flood"],
        default="poison",
        help="flood: honest stations alone and beside a flood of unknown charge box ids",
    )
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.monotonic()
    args.workdir = args.workdir.resolve()  # the servers run from the code snapshot's folder
    args.workdir.mkdir(parents=True, exist_ok=True)
    code = (
        snapshot_code(args.code.resolve(), reuse=True)
        if args.code
        else snapshot_code(args.workdir / "code")
    )
    honest = args.honest
    dirty_total = honest * args.poison_every // (args.poison_every - 1)  # 100 -> 105
    template = args.workdir / "template.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{template}{suffix}").unlink(missing_ok=True)
    prepare_gateway_db(template, dirty_total, 2)
    results: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks.poison_bench", *(argv or sys.argv[1:])]),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": machine_info(),
        "code": code.get("commit", "?") + (" + uncommitted" if code.get("uncommitted") else ""),
        "honest": honest,
        "seconds": args.seconds,
        "runs": [],
    }
    flood = args.mode == "flood"
    variants = (
        [(0, honest, False, "clean"), (0, honest, True, "flood")]
        if flood
        else [(0, honest, False, "clean"), (args.poison_every, dirty_total, False, "poisoned")]
    )
    for round_ in range(args.rounds):
        for poison_every, stations, with_flood, name in variants:
            tag = f"{name}-{round_ + 1}"
            print(f"[poison] {tag}: {stations} stations", file=sys.stderr, flush=True)
            run = run_once(
                template,
                args.workdir,
                stations=stations,
                poison_every=poison_every,
                seconds=args.seconds,
                tag=tag,
                flood=with_flood,
            )
            print(f"[poison]   {json.dumps(run)}", file=sys.stderr, flush=True)
            results["runs"].append(run)
    results["elapsed_s"] = time.monotonic() - started
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(render_flood(results) if flood else render(results))
    return results


if __name__ == "__main__":
    main()
