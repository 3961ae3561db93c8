"""Only the sustained phase of ``python -m benchmarks``, for the remote start's latency.

N stations each keep one MeterValues outstanding while ``--remote-starts`` of them get a
RemoteStartTransaction; prints the throughput, RemoteStart → Charging p50/p99 and where
that time went (``benchmarks/chain_trace.py``), and writes the whole result as JSON.
``--code DIR`` runs the servers from an earlier snapshot (``python -m benchmarks --code``),
for before/after pairs taken back to back.

Run: ``python -m benchmarks.remote_start_bench --stations 5000 --remote-starts 200``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import ROOT, prepare_gateway_db
from benchmarks.phases import BenchConfig, run_sustain

__all__ = ["main"]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.remote_start_bench")
    parser.add_argument("--stations", type=int, default=5000)
    parser.add_argument("--remote-starts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="the sustained window")
    parser.add_argument("--procs", type=int, default=2, help="load-generator processes")
    parser.add_argument("--code", type=Path, help="run the servers from this snapshot")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-remote-start")
    parser.add_argument("--output", type=Path, help="the result as JSON (default: workdir)")
    args = parser.parse_args(argv)
    work = args.workdir.resolve() / str(args.stations)
    work.mkdir(parents=True, exist_ok=True)
    template = work / "template-gateway.sqlite3"
    if not template.exists():  # reused: the same stations for every run of this size
        prepare_gateway_db(template, args.stations, 4)
    if args.code:
        harness.snapshot_code(args.code.resolve(), reuse=True)
    cfg = BenchConfig(
        workdir=work,
        hold_steps=[],
        sustain_steps=[args.stations],
        procs=args.procs,
        sustain_seconds=args.seconds,
        remote_starts=args.remote_starts,
        kinds=["gateway"],
        templates={"gateway": template},
    )
    load_before = os.getloadavg()
    result = run_sustain(cfg, "gateway", args.stations)
    result["loadavg_before"] = load_before
    result["loadavg_after"] = os.getloadavg()
    output = args.output or work / "result.json"
    output.write_text(json.dumps(result, indent=1))
    rs = result["remote_start"]
    summary = {
        key: result[key]
        for key in ("stations", "messages_per_s", "messages_per_cpu_s", "server_cpu_pct")
    }
    print(json.dumps(summary | {"loadavg": load_before[0]}))
    print(json.dumps({k: rs[k] for k in ("sent", "ok", "error_count", "p50_ms", "p99_ms")}))
    for part, figures in (rs.get("breakdown") or {}).items():
        if isinstance(figures, dict):
            print(f"  {part}: p50 {figures['p50']:,} p99 {figures['p99']:,}")
    print(f"[remote_start_bench] wrote {output}")
    return result


if __name__ == "__main__":
    main()
