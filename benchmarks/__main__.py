"""``python -m benchmarks`` (``just bench``): gateway vs baseline, written to BENCHMARKS.md.

``--quick`` runs a few stations for a few seconds (the smoke test uses it); ``--full``
(the default) steps up to 10,000 stations / 40,000 outlets. Every phase is bounded in
station count and in time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.boot_storm import run_boot_storms
from benchmarks.harness import (
    ROOT,
    machine_info,
    prepare_baseline_db,
    prepare_gateway_db,
    snapshot_code,
)
from benchmarks.phases import BenchConfig, run_hold, run_sustain
from benchmarks.report import carry_over, render

MAX_STATIONS = 10_000


def _steps(text: str) -> list[int]:
    steps = [int(x) for x in text.split(",") if x.strip()]
    if any(n < 1 or n > MAX_STATIONS for n in steps):
        raise argparse.ArgumentTypeError(f"steps must be within 1..{MAX_STATIONS}")
    return steps


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a few stations, a few seconds")
    size.add_argument("--full", action="store_true", help="up to 10,000 stations (default)")
    parser.add_argument("--hold-steps", type=_steps, help="stations per hold run, e.g. 1000,10000")
    parser.add_argument("--sustain-steps", type=_steps, help="stations per sustained run")
    parser.add_argument("--procs", type=int, help="load-generator processes")
    parser.add_argument("--hold-seconds", type=float)
    parser.add_argument("--sustain-seconds", type=float)
    parser.add_argument(
        "--remote-starts", type=int, help="RemoteStartTransaction commands per sustained run"
    )
    parser.add_argument("--only", choices=["gateway", "baseline"], help="measure one side")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the servers (raw stacks in the workdir)"
    )
    parser.add_argument(
        "--gc-experiment",
        choices=["threshold", "freeze"],
        help="run the gateway with a GC experiment of gateway_runner (not its defaults)",
    )
    parser.add_argument(
        "--code", type=Path, help="run the servers from this earlier snapshot (A/B on one code)"
    )
    parser.add_argument("--workdir", type=Path, help="databases and logs (default var/bench)")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--notes", type=Path, help="Markdown appended as the report's Analysis section"
    )
    parser.add_argument(
        "--render-from",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: rewrite the report from a saved results.json (with --notes)",
    )
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="skip the restart storm (the largest hold step's stations reconnecting)",
    )
    parser.add_argument(
        "--no-soap15",
        action="store_true",
        help="skip soap15_bench (OCPP 1.5 SOAP stations beside 1.6-J)",
    )
    sessions = parser.add_mutually_exclusive_group()
    sessions.add_argument("--no-sessions", action="store_true", help="skip sessions_bench")
    sessions.add_argument(
        "--sessions-from",
        type=Path,
        help="include this sessions_bench output instead of running it",
    )
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> BenchConfig:
    workdir = (args.workdir or ROOT / "var" / "bench").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if args.quick:
        cfg = BenchConfig(
            workdir=workdir,
            hold_steps=[5],
            sustain_steps=[5],
            procs=1,
            hold_seconds=2.0,
            sustain_seconds=3.0,
            heartbeat_interval=0.5,
            remote_starts=3,
            settle=1.0,
        )
    else:
        cfg = BenchConfig(
            workdir=workdir,
            hold_steps=[1000, 5000, 10_000],
            sustain_steps=[1000, 5000],
            procs=2,
        )
    if args.hold_steps:
        cfg.hold_steps = args.hold_steps
    if args.sustain_steps:
        cfg.sustain_steps = args.sustain_steps
    if args.procs:
        cfg.procs = max(1, min(8, args.procs))
    if args.hold_seconds:
        cfg.hold_seconds = min(600.0, args.hold_seconds)
    if args.sustain_seconds:
        cfg.sustain_seconds = min(600.0, args.sustain_seconds)
    if args.remote_starts is not None:
        cfg.remote_starts = max(0, args.remote_starts)
    if args.only:
        cfg.kinds = [args.only]
    cfg.profile = args.profile
    return cfg


def sessions_bench(quick: bool) -> str | None:
    """The statistics engineer's sessions benchmark, when it exists (its own output; its
    raw results as the last line, JSON, for the issue 19 table)."""
    if not (ROOT / "benchmarks" / "sessions_bench.py").exists():
        return None
    cmd = [
        *(sys.executable, "-m", "benchmarks.sessions_bench", "--json"),
        *(["--quick"] if quick else ["--keep-db"]),  # a filled 1,000,000-row database is reused
    ]
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=180 if quick else 2400
        )
    except subprocess.TimeoutExpired:
        return f"`{shlex.join(cmd[1:])}` did not finish in time."
    if done.returncode != 0:
        return f"`{shlex.join(cmd[1:])}` failed:\n\n```\n{done.stderr[-2000:]}\n```"
    return done.stdout.strip()


def split_sessions_output(text: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """sessions_bench's Markdown and, when its last line is JSON, its raw results."""
    if not text:
        return text, None
    head, _, last = text.rpartition("\n")
    if last.startswith("{"):
        try:
            return head.strip(), json.loads(last)
        except ValueError:
            pass
    return text, None


def soap15_bench(quick: bool, output: Path) -> None:
    """OCPP 1.5 SOAP stations beside 1.6-J ones (its own section of the report)."""
    size = ["--stations", "5", "--seconds", "2", "--ramp", "0.5"] if quick else []
    cmd = [sys.executable, "-m", "benchmarks.soap15_bench", *size, "--output", str(output)]
    try:
        subprocess.run(cmd, cwd=ROOT, check=True, timeout=300 if quick else 900)
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as exc:
        print(f"[bench] soap15_bench failed: {exc}", file=sys.stderr)


def _write_report(path: Path, report: str) -> None:
    """Write the report, keeping the other benchmark scripts' sections of the old one."""
    previous = path.read_text() if path.exists() else ""
    path.write_text(carry_over(previous, report))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.render_from:
        saved: dict[str, Any] = json.loads(args.render_from.read_text())
        if args.notes:
            saved["analysis"] = args.notes.read_text().strip()
        _write_report(args.output, render(saved))
        print(f"[bench] wrote {args.output} from {args.render_from}", file=sys.stderr)
        return saved
    cfg = build_config(args)
    if args.gc_experiment:
        # read by benchmarks/gateway_runner.py only
        os.environ["BENCH_GC_EXPERIMENT"] = args.gc_experiment
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # inherited by every process started from here
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.monotonic()
    results: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])]),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": machine_info(),
        "config": cfg.summary(),
        "hold": [],
        "sustain": [],
        "notes": [],
    }
    if args.code:
        results["code"] = snapshot_code(args.code.resolve(), reuse=True)
    else:
        results["code"] = snapshot_code(cfg.workdir / "code")
    most = max(cfg.hold_steps + cfg.sustain_steps)
    gateway_template = cfg.workdir / "template-gateway.sqlite3"
    baseline_template = cfg.workdir / "template-baseline.sqlite3"
    for path in (gateway_template, baseline_template):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    prepare_gateway_db(gateway_template, most, cfg.outlets)
    prepare_baseline_db(baseline_template, most)
    cfg.templates = {"gateway": gateway_template, "baseline": baseline_template}
    results["config"] = cfg.summary()

    for n in cfg.hold_steps:
        for kind in cfg.kinds:
            print(f"[bench] hold {n} stations: {kind}", file=sys.stderr, flush=True)
            r = run_hold(cfg, kind, n)
            print(f"[bench]   {json.dumps(r)}", file=sys.stderr, flush=True)
            results["hold"].append(r)
    if "gateway" in cfg.kinds and not args.no_restart:
        n = max(cfg.hold_steps)
        print(f"[bench] restart {n} stations: gateway", file=sys.stderr, flush=True)
        results["restart"] = run_boot_storms(cfg, n)
        print(f"[bench]   {json.dumps(results['restart'])}", file=sys.stderr, flush=True)
    for n in cfg.sustain_steps:
        for kind in cfg.kinds:
            print(f"[bench] sustain {n} stations: {kind}", file=sys.stderr, flush=True)
            r = run_sustain(cfg, kind, n)
            print(f"[bench]   {json.dumps(r)}", file=sys.stderr, flush=True)
            results["sustain"].append(r)
    if args.sessions_from:
        results["sessions"] = args.sessions_from.read_text().strip()
    elif not args.no_sessions:
        print("[bench] sessions_bench", file=sys.stderr, flush=True)
        results["sessions"] = sessions_bench(args.quick)
    results["sessions"], results["sessions_results"] = split_sessions_output(
        results.get("sessions")
    )
    results["elapsed_s"] = time.monotonic() - started
    if args.notes:
        results["analysis"] = args.notes.read_text().strip()
    _write_report(args.output, render(results))
    if not args.no_soap15:  # after the report: its section is kept when the rest is rewritten
        print("[bench] soap15_bench", file=sys.stderr, flush=True)
        soap15_bench(args.quick, args.output)
    (cfg.workdir / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results))
    print(f"[bench] wrote {args.output}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
