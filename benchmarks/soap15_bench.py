"""OCPP 1.5 SOAP stations beside OCPP 1.6-J ones, same server, same simulator, same run:
heartbeat latency of N idle stations, then persisted messages/s with every station keeping
one MeterValues outstanding. Writes its section of BENCHMARKS.md.

``python -m benchmarks.soap15_bench [--stations 1000] [--seconds 15]``. The server is
``chargeportal serve`` (gateway + portal: the 1.5 endpoint is the portal's) in its own
process on a fresh SQLite database; the stations are ``chargeportal-sim load`` processes.
Every phase is bounded (boot storm, then a measured window).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import PYTHON, ROOT, machine_info, prepare_gateway_db

HEADING = "## OCPP 1.5 SOAP beside 1.6-J (`benchmarks/soap15_bench.py`)"
PREFIX, WIDTH = "BENCH", 5  # the ids prepare_gateway_db registers: BENCH00000, ...


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``chargeportal serve`` on a fresh copy of the prepared database."""

    def __init__(self, workdir: Path, label: str, template: Path) -> None:
        self.db = workdir / f"{label}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        self.db.write_bytes(template.read_bytes())
        self.gateway_port, self.portal_port = _free_port(), _free_port()
        cli = Path(PYTHON).parent / "chargeportal"
        self.log = (workdir / f"{label}.log").open("w")
        self.proc = subprocess.Popen(
            [
                *([str(cli)] if cli.exists() else [PYTHON, "-m", "chargeportal"]),
                "serve",
                *("--db", f"sqlite:///{self.db}", "--host", "127.0.0.1"),
                *("--gateway-port", str(self.gateway_port)),
                *("--portal-port", str(self.portal_port), "--ftp-port", "-1"),
                *("--files-root", str(workdir / "files")),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                for port in (self.portal_port, self.gateway_port):
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"chargeportal serve ended: see {self.log.name}") from None
                time.sleep(0.2)
        raise RuntimeError("chargeportal serve did not start in 60 s")

    def url(self, protocol: str) -> str:
        if protocol == "ocpp1.5":
            return f"http://127.0.0.1:{self.portal_port}/Ocpp/CentralSystemService15"
        return f"ws://127.0.0.1:{self.gateway_port}/Ocpp/websocket"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _load(server: Server, protocol: str, mode: str, args: argparse.Namespace, out: Path) -> dict:
    cmd = [
        *(PYTHON, "-m", "simulator", "load", "--protocol", protocol),
        *("--url", server.url(protocol), "--stations", str(args.stations)),
        *("--id-prefix", PREFIX, "--first-index", "0", "--id-width", str(WIDTH)),
        *("--mode", mode, "--duration", str(args.seconds), "--ramp", str(args.ramp)),
        *("--heartbeat", str(args.heartbeat), "--boot-timeout", str(args.boot_timeout)),
        *("--timeout", "30", "--settle", "2", "--json-out", str(out), "--quiet"),
        *("--processes", str(args.processes)),
    ]
    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True, timeout=args.boot_timeout + args.seconds + 120)
    summary: dict[str, Any] = json.loads(out.read_text())
    summary["wall_s"] = round(time.monotonic() - started, 1)
    summary["server_cpu_s"] = round(server.cpu_seconds() - cpu_before, 1)
    return summary


def _figures(protocol: str, idle: dict[str, Any], meter: dict[str, Any]) -> dict[str, Any]:
    hb = idle["actions"].get("Heartbeat", {})
    mv = meter["actions"].get("MeterValues", {})
    failed = sum(
        a.get(k, 0) for a in meter["actions"].values() for k in ("error", "timeout", "lost")
    )
    return {
        "protocol": protocol,
        "accepted": [idle["boot"]["accepted"], meter["boot"]["accepted"]],
        "boot_storm_s": idle["boot"]["seconds"],
        "heartbeats": hb.get("ok", 0),
        "heartbeat_p50_ms": hb.get("p50_ms"),
        "heartbeat_p99_ms": hb.get("p99_ms"),
        # the gateway answers a message once it is stored: answered = persisted
        "persisted_per_s": meter["calls_per_second"],
        "meter_p50_ms": mv.get("p50_ms"),
        "meter_p99_ms": mv.get("p99_ms"),
        "failed": failed,
        "server_cpu_s": meter["server_cpu_s"],
        "wall_s": idle["wall_s"] + meter["wall_s"],
    }


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}"


def section(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        HEADING,
        "",
        f"`{results['command']}` on {results['started']} UTC, {m.get('cores', '?')} cores, "
        f"load average {_fmt(results['loadavg_before'])} before the run. "
        f"{results['stations']:,} stations of 1 outlet, each protocol against its own fresh "
        "`chargeportal serve` (SQLite); the stations are `chargeportal-sim load` "
        f"(`--protocol`, {results.get('processes', 1)} processes, heartbeat every "
        f"{_fmt(results['heartbeat'])} s). Heartbeat "
        "latencies: idle stations; persisted messages/s: every station keeps one MeterValues "
        f"outstanding (`--mode meter`), measured over {_fmt(results['seconds'])} s after the "
        "boot storm (the gateway answers only once a message is stored).",
        "",
        "| protocol | booted in time (idle / meter run) | boot storm | heartbeat p50 / p99 "
        "| persisted msgs/s | MeterValues p50 / p99 | failed calls | server CPU-s (meter run) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        booted = " / ".join(f"{n:,}" for n in r["accepted"])
        lines.append(
            f"| {r['protocol']} | {booted} of {results['stations']:,} "
            f"| {_fmt(r['boot_storm_s'], ' s')} "
            f"| {_fmt(r['heartbeat_p50_ms'], ' ms')} / {_fmt(r['heartbeat_p99_ms'], ' ms')} "
            f"| {_fmt(r['persisted_per_s'])} "
            f"| {_fmt(r['meter_p50_ms'], ' ms')} / {_fmt(r['meter_p99_ms'], ' ms')} "
            f"| {r['failed']:,} | {_fmt(r['server_cpu_s'])} |"
        )
    if results.get("note"):
        lines += ["", results["note"]]
    lines.append("")
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace this script's section of the report (or add it before the analysis)."""
    old = path.read_text() if path.exists() else ""
    lines = old.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == HEADING), None)
    if start is None:
        at = next((i for i, line in enumerate(lines) if line.strip() == "## Analysis"), None)
        if at is None:
            path.write_text(old.rstrip("\n") + "\n\n" + text)
            return
        start = end = at
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
    kept = lines[:start] + text.rstrip("\n").splitlines() + [""] + lines[end:]
    path.write_text("\n".join(kept).rstrip("\n") + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soap15_bench", description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="each measured window")
    parser.add_argument("--heartbeat", type=float, default=30.0, help="heartbeat interval")
    parser.add_argument("--ramp", type=float, default=10.0, help="spread the boots over")
    parser.add_argument("--boot-timeout", type=float, default=90.0)
    parser.add_argument("--protocols", default="ocpp1.6,ocpp1.5")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "soap15")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--note", type=Path, help="Markdown added under the table")
    parser.add_argument(
        "--render-from",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: rewrite the section from a saved results.json",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.stations <= 5000:
        parser.error("--stations: 1 to 5000")
    args.seconds = min(max(args.seconds, 1.0), 120.0)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.render_from:
        saved: dict[str, Any] = json.loads(args.render_from.read_text())
        if args.note:
            saved["note"] = args.note.read_text().strip()
        write_section(args.output, section(saved))
        return saved
    args.workdir.mkdir(parents=True, exist_ok=True)
    template = args.workdir / "template.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{template}{suffix}").unlink(missing_ok=True)
    prepare_gateway_db(template, args.stations, 1)
    results: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "benchmarks.soap15_bench", *argv]),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": machine_info(),
        "loadavg_before": round(os.getloadavg()[0], 1),
        "stations": args.stations,
        "seconds": args.seconds,
        "heartbeat": args.heartbeat,
        "processes": args.processes,
        "rows": [],
    }
    for protocol in args.protocols.split(","):
        print(f"[soap15] {protocol}: {args.stations} stations", file=sys.stderr, flush=True)
        server = Server(args.workdir, protocol.replace(".", ""), template)
        try:
            idle = _load(server, protocol, "idle", args, args.workdir / f"{protocol}-idle.json")
            meter = _load(server, protocol, "meter", args, args.workdir / f"{protocol}-meter.json")
        finally:
            server.stop()
        row = _figures(protocol, idle, meter)
        print(f"[soap15]   {json.dumps(row)}", file=sys.stderr, flush=True)
        results["rows"].append(row)
    if args.note:
        results["note"] = args.note.read_text().strip()
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))
    write_section(args.output, section(results))
    print(f"[soap15] wrote {args.output}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
