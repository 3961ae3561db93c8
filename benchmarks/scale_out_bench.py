"""``python -m benchmarks.scale_out_bench`` (``just bench-scale``): the gateway on PostgreSQL.

1. Persisted messages/s and heartbeat p99 with ``serve --role gateway --workers 1`` and
   ``--workers 2`` (SO_REUSEPORT): the same stations, each keeping one MeterValues
   outstanding (``benchmarks.loadgen --mode sustain``) with a heartbeat every 2 s.
2. A command's round trip across nodes: two gateway processes, this process as a portal
   node (``ClusterGateway``); a raw station on each gateway answers at once;
   TriggerMessage one at a time, alternating nodes, p50/p99 (idle system).

Each phase is bounded (``--seconds`` of load, ``--commands`` round trips). Databases are
created on the server of ``--db`` (default ``$DATABASE_URL_BENCH`` or
``$DATABASE_URL_TEST``) and dropped afterwards. Prints a Markdown section and JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import trio

from benchmarks.harness import ROOT, station_ids

PYTHON = sys.executable
SERVE = [PYTHON, "-m", "chargeportal", "serve", "--role", "gateway"]


def _admin(url: str) -> Any:
    import psycopg2
    import psycopg2.extensions

    conn = psycopg2.connect(url)
    conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    return conn


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"cp_bench_{uuid.uuid4().hex[:10]}"
    admin = _admin(server_url)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def prepare(url: str, stations: int) -> None:
    """Schema, ``stations`` stations with one outlet, the badges loadgen presents."""
    from db import migrate, open_database
    from db.schema.models import IdTag, Outlet, Station

    database = open_database(url)
    migrate(database)
    ids = station_ids(stations)
    with database.atomic():
        Station.insert_many([{"charge_box_id": cbid, "name": cbid} for cbid in ids]).execute()
        rows = Station.select(Station.id, Station.charge_box_id)
        Outlet.insert_many(
            [{"station": row.id, "connector_id": 1, "mode": "RFID"} for row in rows]
        ).execute()
        IdTag.insert_many(
            [{"id_tag": f"{kind}{cbid}", "status": "Accepted"} for cbid in ids for kind in "AR"]
        ).execute()
    database.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nodes(url: str) -> int:
    conn = _admin(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cluster_node")
            return int(cursor.fetchone()[0])
    finally:
        conn.close()


def start_gateway(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*SERVE, "--db", url, "--workers", str(workers), "--gateway-port", str(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process


def wait_nodes(url: str, count: int, process: subprocess.Popen[bytes], before: int = 0) -> None:
    deadline = time.monotonic() + 60
    while _nodes(url) < before + count:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the gateway did not start (see the log)")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(root: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the process tree under ``root`` and by the PostgreSQL
    backends serving ``database``."""
    parents: dict[int, int] = {}
    backends = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            backends += _cpu_seconds(int(entry.name))
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return {"gateway": sum(_cpu_seconds(pid) for pid in tree), "postgres": backends}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def load(port: int, stations: int, seconds: float, procs: int) -> dict[str, Any]:
    """loadgen processes in sustain mode; merged figures of the window."""
    per = stations // procs
    runs = [
        subprocess.Popen(
            [
                *(PYTHON, "-m", "benchmarks.loadgen", "--port", str(port), "--mode", "sustain"),
                *("--first", str(i * per), "--count", str(per), "--outlets", "1"),
                *("--warmup", "4", "--duration", str(seconds), "--heartbeat-interval", "2"),
                "--samples",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i in range(procs)
    ]
    summaries = []
    for run in runs:
        out, _ = run.communicate(timeout=seconds + 120)
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    heartbeats = [v for s in summaries for v in s["samples"].get("Heartbeat", [])]
    meters = [v for s in summaries for v in s["samples"].get("MeterValues", [])]
    return {
        "stations": stations,
        "window_s": seconds,
        "meter_values_per_s": round(len(meters) / seconds, 1),
        "persisted_per_s": round(sum(s["completed_in_window"] for s in summaries) / seconds, 1),
        "heartbeat_p50_ms": round((_percentile(heartbeats, 0.5) or 0) * 1000, 1),
        "heartbeat_p99_ms": round((_percentile(heartbeats, 0.99) or 0) * 1000, 1),
        "meter_p99_ms": round((_percentile(meters, 0.99) or 0) * 1000, 1),
        "failures": sum(sum(s["failures"].values()) for s in summaries),
        "connected_at_end": sum(s["connected_at_end"] for s in summaries),
    }


def throughput(server: str, workers: int, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    with scratch_database(server) as url:
        prepare(url, args.stations)
        port = _free_port()
        gateway = start_gateway(url, port, workers, log)
        try:
            wait_nodes(url, workers, gateway)
            name = urlparse(url).path.lstrip("/")
            before = cpu_of(gateway.pid, name)
            result = load(port, args.stations, args.seconds, args.procs)
            after = cpu_of(gateway.pid, name)
            persisted = result["persisted_per_s"] * args.seconds or 1
            for side in ("gateway", "postgres"):  # warm-up and drain included: an upper bound
                used = after[side] - before[side]
                result[f"{side}_cpu_s"] = round(used, 2)
                result[f"{side}_cpu_ms_per_msg"] = round(1000 * used / persisted, 3)
        finally:
            stop(gateway)
    return {"workers": workers, **result}


async def _station(port: int, cbid: str, task_status: trio.TaskStatus[None]) -> None:
    """A raw station: boots, then answers every CALL with Accepted at once."""
    from trio_websocket import open_websocket

    async with open_websocket(
        "127.0.0.1", port, f"/Ocpp/websocket/{cbid}", use_ssl=False, subprotocols=["ocpp1.6"]
    ) as ws:
        await ws.send_message(json.dumps([2, "b", "BootNotification", {
            "chargePointVendor": "V", "chargePointModel": "M"}]))  # fmt: skip
        await ws.get_message()
        task_status.started()
        while True:
            frame = json.loads(await ws.get_message())
            if frame[0] == 2:
                await ws.send_message(json.dumps([3, frame[1], {"status": "Accepted"}]))


async def _round_trips(url: str, ports: list[int], commands: int) -> list[float]:
    from db import open_store
    from gateway.cluster.node import ClusterConfig, ClusterNode
    from gateway.cluster.remote import ClusterGateway
    from gateway.commands import TriggerMessage

    ids = station_ids(len(ports))
    async with open_store(url) as store, trio.open_nursery() as nursery:
        node = ClusterNode(store, ClusterConfig(f"bench-portal-{os.getpid()}", "portal"))
        await nursery.start(node.run)
        api = ClusterGateway(store, node)
        for port, cbid in zip(ports, ids, strict=True):
            await nursery.start(_station, port, cbid)
        with trio.fail_after(30):
            while True:  # the presence table, read every 2 s
                if all(node.holder(cbid) for cbid in ids):
                    break
                await trio.sleep(0.1)
        times = []
        for i in range(commands):
            started = time.perf_counter()
            await api.send(ids[i % len(ids)], TriggerMessage(requested_message="Heartbeat"))
            times.append(time.perf_counter() - started)
        nursery.cancel_scope.cancel()
    return times


def round_trip(server: str, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    with scratch_database(server) as url:
        prepare(url, 2)
        ports = [_free_port(), _free_port()]
        gateways = []
        try:
            for port in ports:
                gateways.append(start_gateway(url, port, 1, log))
            for i, gateway in enumerate(gateways):
                wait_nodes(url, 1, gateway, before=i)
            times = trio.run(_round_trips, url, ports, args.commands)
        finally:
            for gateway in gateways:
                stop(gateway)
    return {
        "commands": len(times),
        "p50_ms": round((_percentile(times, 0.5) or 0) * 1000, 2),
        "p99_ms": round((_percentile(times, 0.99) or 0) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
    }


def render(results: dict[str, Any]) -> str:
    one, two = results["throughput"]
    ratio = two["persisted_per_s"] / one["persisted_per_s"] if one["persisted_per_s"] else 0
    rt = results["round_trip"]
    lines = [
        "## Scale-out on PostgreSQL (`benchmarks/scale_out_bench.py`)",
        "",
        f"{results['when']}, {results['machine']}. The load generator runs on the same "
        "machine, and this machine is shared with other work: figures are noisy.",
        "",
        f"{one['stations']} stations, one MeterValues outstanding each and a heartbeat "
        f"every 2 s, {one['window_s']:g} s window (`serve --role gateway --workers N`):",
        "",
        "| workers | persisted msgs/s | heartbeat p50 | heartbeat p99 | MeterValues p99 "
        "| failures | CPU ms/msg gateway | CPU ms/msg PostgreSQL |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["throughput"]:
        lines.append(
            f"| {row['workers']} | {row['persisted_per_s']:,.0f} | {row['heartbeat_p50_ms']} ms "
            f"| {row['heartbeat_p99_ms']} ms | {row['meter_p99_ms']} ms | {row['failures']} "
            f"| {row.get('gateway_cpu_ms_per_msg')} | {row.get('postgres_cpu_ms_per_msg')} |"
        )
    lines += [
        "",
        f"2 workers / 1 worker: **×{ratio:.2f}** (target ≥ ×1.6).",
        "",
        f"Command round trip across nodes (portal node → PostgreSQL → the gateway node "
        f"holding the station → station → back), idle, {rt['commands']} TriggerMessage one "
        f"at a time over two gateway nodes: p50 **{rt['p50_ms']} ms**, p99 "
        f"**{rt['p99_ms']} ms**, max {rt['max_ms']} ms (target p99 < 100 ms).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_out_bench")
    parser.add_argument(
        "--db",
        default=os.environ.get("DATABASE_URL_BENCH") or os.environ.get("DATABASE_URL_TEST"),
        help="a PostgreSQL URL whose server gets scratch databases",
    )
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--procs", type=int, default=1, help="load generator processes")
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--log", type=Path, default=ROOT / "var" / "bench" / "scale_out.log")
    args = parser.parse_args(argv)
    if not args.db or not args.db.startswith(("postgres://", "postgresql://")):
        raise SystemExit("scale_out_bench needs --db postgresql://… (or DATABASE_URL_BENCH)")
    args.seconds = min(args.seconds, 60.0)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    from benchmarks.harness import machine_info

    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{machine_info()['cores']} cores, {machine_info()['cpu']}",
        "throughput": [throughput(args.db, workers, args, args.log) for workers in (1, 2)],
        "round_trip": round_trip(args.db, args, args.log),
    }
    print(render(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
