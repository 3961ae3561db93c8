"""Processes for the benchmark: the two servers, the load generators, /proc readings."""

from __future__ import annotations

import json
import os
import platform
import queue
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "LoadResult",
    "LoadRun",
    "Server",
    "cpu_seconds",
    "machine_info",
    "prepare_baseline_db",
    "prepare_gateway_db",
    "rss_kib",
    "snapshot_code",
]

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
#: where server and load-generator processes run from (a snapshot of the code, see
#: ``snapshot_code``), so that edits to the working tree during a run do not mix versions
CODE_ROOT = ROOT


def snapshot_code(target: Path, *, reuse: bool = False) -> dict[str, Any]:
    """Copy the packages the servers import to ``target``; run every process from there.

    ``reuse``: run from an earlier snapshot at ``target`` as it is (an A/B on the same code).
    """
    global CODE_ROOT
    if reuse:
        CODE_ROOT = target
        saved = target / "SNAPSHOT.json"
        return json.loads(saved.read_text()) if saved.exists() else {"commit": "?"}
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for package in ("gateway", "db", "benchmarks", "files", "chargeportal"):
        if (ROOT / package).is_dir():
            shutil.copytree(
                ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
            )
    CODE_ROOT = target

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    info = {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--porcelain", "--", "gateway", "db").splitlines(),
    }
    (target / "SNAPSHOT.json").write_text(json.dumps(info))
    return info


CLK_TCK = os.sysconf("SC_CLK_TCK")


def station_ids(count: int, prefix: str = "BENCH") -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


# -- /proc ---------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all its threads) in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    versions = {}
    for dist in ("trio", "trio-websocket", "wsproto", "ocpp", "websockets", "peewee"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "versions": versions,
        "loadavg_at_start": os.getloadavg(),
    }


# -- databases -------------------------------------------------------------------------


def prepare_gateway_db(path: Path, stations: int, outlets: int) -> str:
    """A gateway database with ``stations`` registered (no password), tags for each."""
    url = f"sqlite:///{path}"
    cli = Path(PYTHON).parent / "chargeportal"
    if cli.exists():
        subprocess.run(
            [str(cli), "init-db", "--db", url], check=True, capture_output=True, cwd=ROOT
        )
    from db import migrate, open_database
    from db.schema.models import IdTag, Outlet, Station

    database = open_database(url)
    migrate(database)
    ids = station_ids(stations)
    with database.atomic():
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            Station.insert_many([{"charge_box_id": cbid, "name": cbid} for cbid in part]).execute()
            rows = Station.select(Station.id, Station.charge_box_id).where(
                Station.charge_box_id.in_(part)
            )
            Outlet.insert_many(
                [
                    {"station": row.id, "connector_id": c, "mode": "RFID"}
                    for row in rows
                    for c in range(1, outlets + 1)
                ]
            ).execute()
            IdTag.insert_many(
                [
                    {"id_tag": f"{kind}{cbid}", "status": "Accepted"}
                    for cbid in part
                    for kind in "AR"
                ]
            ).execute()
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return url


def prepare_baseline_db(path: Path, stations: int) -> None:
    from benchmarks.baseline_cs import SCHEMA

    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany(
        "INSERT OR IGNORE INTO id_tags VALUES (?, 'Accepted')",
        [(f"{kind}{cbid}",) for cbid in station_ids(stations) for kind in "AR"],
    )
    con.commit()
    con.close()


# -- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    """One central system under test, in its own process."""

    kind: str  # "gateway" | "baseline"
    db: str
    log_path: Path
    proc: subprocess.Popen[str] | None = None
    port: int = 0
    control_port: int = 0
    idle_rss_kib: int = 0

    def start(self, timeout: float = 60.0) -> None:
        if self.kind == "gateway":
            cmd = [PYTHON, "-m", "benchmarks.gateway_runner", "--db", self.db]
        else:
            cmd = [PYTHON, "-m", "benchmarks.baseline_cs", "--port", "0", "--db", self.db]
        self.proc = subprocess.Popen(
            cmd,
            cwd=CODE_ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("a"),
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.kind} exited at start-up; see {self.log_path}")
            if line.startswith("{"):
                ready = json.loads(line)
                if ready.get("ready"):
                    # The baseline's port 0 is resolved by the OS: read it from the socket.
                    self.port = int(ready["port"])
                    self.control_port = int(ready["control_port"])
                    break
        else:
            raise RuntimeError(f"{self.kind} not ready in {timeout}s")
        time.sleep(1.0)
        self.idle_rss_kib = rss_kib(self.proc.pid)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def control(self, request: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=timeout) as sock:
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data) if data else {"error": "no reply"}

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- load ------------------------------------------------------------------------------


@dataclass
class LoadResult:
    stations: int
    procs: int
    boot_times: list[float] = field(default_factory=list)
    outlet_times: list[float] = field(default_factory=list)
    connected_at_window: int = 0
    connected_at_end: int = 0
    completed_in_window: int = 0
    window_s: float = 0.0
    latencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_errors: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    boot_reconnects: int = 0  # connections refused or dropped in the storm, tried again
    loadgen_cpu_s: list[float] = field(default_factory=list)


def _merge_latencies(parts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-action percentiles: merged from each process's sorted sample lists."""
    merged: dict[str, list[float]] = {}
    for part in parts:
        for action, values in part.get("samples", {}).items():
            merged.setdefault(action, []).extend(values)
    out = {}
    for action, values in merged.items():
        values.sort()
        n = len(values)

        def q(p: float, values: list[float] = values, n: int = n) -> float:
            return values[min(n - 1, round(p * (n - 1)))]

        out[action] = {"count": n, "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": values[-1]}
    return out


class LoadRun:
    """The load-generator processes of one run: boot, then a window given by ``go``."""

    def __init__(
        self,
        server: Server,
        *,
        stations: int,
        procs: int,
        mode: str,
        outlets: int,
        heartbeat_interval: float,
        connect_concurrency: int,
        log_path: Path,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.stations = stations
        self.popens: list[subprocess.Popen[str]] = []
        self.lines: list[queue.Queue[str | None]] = []
        self.window_s = 0.0
        share = [stations // procs + (1 if i < stations % procs else 0) for i in range(procs)]
        share = [count for count in share if count]
        start_at = time.time() + 1.0
        first = 0
        for count in share:
            cmd = [
                *(PYTHON, "-m", "benchmarks.loadgen", "--port", str(server.port)),
                *("--first", str(first), "--count", str(count), "--outlets", str(outlets)),
                *("--mode", mode, "--start-at", str(start_at)),
                *("--heartbeat-interval", str(heartbeat_interval)),
                *("--connect-concurrency", str(max(1, connect_concurrency // len(share)))),
                "--samples",
                *extra_args,
            ]
            proc = subprocess.Popen(
                cmd,
                cwd=CODE_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_path.open("a"),
                text=True,
            )
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
            self.popens.append(proc)
            self.lines.append(lines)
            first += count

    def _next_json(self, index: int, deadline: float) -> dict[str, Any] | None:
        while True:
            try:
                line = self.lines[index].get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                return None
            if line.startswith("{"):
                return json.loads(line)  # type: ignore[no-any-return]

    def wait_booted(self, timeout: float) -> int:
        """Wait until every process has booted its stations; return how many booted."""
        deadline = time.monotonic() + timeout
        total = 0
        for i in range(len(self.popens)):
            msg = self._next_json(i, deadline)
            total += int(msg["booted"]) if msg else 0
        return total

    def go(self, window_lo: float, window_hi: float) -> None:
        self.window_s = window_hi - window_lo
        for proc in self.popens:
            try:
                assert proc.stdin is not None
                proc.stdin.write(f"go {window_lo} {window_hi}\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass

    def collect(self, timeout: float) -> LoadResult:
        deadline = time.monotonic() + timeout
        parts = []
        for i, proc in enumerate(self.popens):
            msg = self._next_json(i, deadline)
            if msg is not None:
                parts.append(msg)
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        result = LoadResult(stations=self.stations, procs=len(self.popens), window_s=self.window_s)
        for part in parts:
            result.boot_times.extend(part["boot_times"])
            result.outlet_times.extend(part["outlet_times"])
            result.connected_at_window += part["connected_at_window"]
            result.connected_at_end += part["connected_at_end"]
            result.completed_in_window += part["completed_in_window"]
            result.boot_reconnects += part.get("boot_reconnects", 0)
            result.loadgen_cpu_s.append(part["cpu_s_in_window"])
            for k, v in part["call_errors"].items():
                result.call_errors[k] = result.call_errors.get(k, 0) + v
            for k, v in part["failures"].items():
                result.failures[k] = result.failures.get(k, 0) + v
        result.boot_times.sort()
        result.outlet_times.sort()
        result.latencies = _merge_latencies(parts)
        return result


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def fresh_copy(template: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
