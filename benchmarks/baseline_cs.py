"""The baseline central system: `ocpp`'s asyncio ChargePoint on `websockets`, SQLite commits.

Written the way a Python user would by default (the `ocpp` README's central system):
one ``ChargePoint`` per connection, ``@on`` handlers, the library's own (async, thread
executor) schema validation, and the standard library's ``sqlite3`` committing every
transaction message (StartTransaction, StopTransaction, MeterValues) before the answer
is returned. The only deviations from the README: WAL + ``synchronous=NORMAL`` (the
gateway's pragmas, so both sides pay the same durability) and a loopback control port
that the benchmark uses to send RemoteStartTransaction and read statistics.

Run: ``python -m benchmarks.baseline_cs --port P --db FILE [--control-port C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as _ChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus, RemoteStartStopStatus
from websockets.asyncio.server import ServerConnection, serve

from benchmarks.probes import Probes, memory_top, native_memory, object_census

__all__ = ["main"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS id_tags (id_tag TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_box_id TEXT NOT NULL, connector_id INTEGER NOT NULL, id_tag TEXT NOT NULL,
    meter_start INTEGER NOT NULL, start_time TEXT NOT NULL,
    meter_stop INTEGER, stop_time TEXT, stop_reason TEXT
);
CREATE TABLE IF NOT EXISTS meter_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_box_id TEXT NOT NULL, connector_id INTEGER NOT NULL, transaction_id INTEGER,
    timestamp TEXT NOT NULL, measurand TEXT, value TEXT NOT NULL, unit TEXT
);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class CentralSystem:
    """What the stations share: the database and the connected ChargePoints."""

    def __init__(self, db_path: str) -> None:
        self.db = sqlite3.connect(db_path)
        self.db.execute("PRAGMA journal_mode=wal")
        self.db.execute("PRAGMA synchronous=normal")
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO id_tags VALUES ('BENCH', 'Accepted')")
        self.db.commit()
        self.stations: dict[str, ChargePoint] = {}
        self.messages = 0
        self.probes = Probes()  # the benchmark's instruments, not part of the baseline


async def probe_lag(cs: CentralSystem) -> None:
    """Wake every 50 ms and record how late the wake-up was."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + 0.05
        await asyncio.sleep(0.05)
        cs.probes.lag(loop.time() - due)


class ChargePoint(_ChargePoint):
    def __init__(self, cbid: str, connection: Any, cs: CentralSystem) -> None:
        super().__init__(cbid, connection)
        self.cs = cs
        self.status: dict[int, str] = {}
        self.waiters: dict[tuple[int, str], asyncio.Future[None]] = {}

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kw: Any):
        self.cs.messages += 1
        return call_result.BootNotification(
            current_time=now_iso(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self):
        self.cs.messages += 1
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str, **kw: Any):
        self.cs.messages += 1
        self.status[connector_id] = status
        waiter = self.waiters.pop((connector_id, status), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str):
        self.cs.messages += 1
        row = self.cs.db.execute(
            "SELECT status FROM id_tags WHERE id_tag = ?", (id_tag,)
        ).fetchone()
        status = row[0] if row else AuthorizationStatus.invalid
        return call_result.Authorize(id_tag_info={"status": status})

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kw: Any
    ):
        self.cs.messages += 1
        cur = self.cs.db.execute(
            "INSERT INTO transactions"
            " (charge_box_id, connector_id, id_tag, meter_start, start_time)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.id, connector_id, id_tag, meter_start, timestamp),
        )
        self.cs.db.commit()
        return call_result.StartTransaction(
            transaction_id=cur.lastrowid or 0,
            id_tag_info={"status": AuthorizationStatus.accepted},
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kw: Any):
        self.cs.messages += 1
        self.cs.db.execute(
            "UPDATE transactions SET meter_stop = ?, stop_time = ?, stop_reason = ?"
            " WHERE id = ? AND charge_box_id = ?",
            (meter_stop, timestamp, kw.get("reason", "Local"), transaction_id, self.id),
        )
        self.cs.db.commit()
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]], **kw: Any):
        self.cs.messages += 1
        rows = [
            (
                self.id,
                connector_id,
                kw.get("transaction_id"),
                mv["timestamp"],
                sv.get("measurand", "Energy.Active.Import.Register"),
                sv["value"],
                sv.get("unit", "Wh"),
            )
            for mv in meter_value
            for sv in mv["sampled_value"]
        ]
        self.cs.db.executemany(
            "INSERT INTO meter_values (charge_box_id, connector_id, transaction_id, timestamp,"
            " measurand, value, unit) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.cs.db.commit()
        return call_result.MeterValues()


async def on_connect(connection: ServerConnection, cs: CentralSystem) -> None:
    """One station: the ocpp README's handler."""
    request = connection.request
    assert request is not None
    cbid = request.path.rstrip("/").rsplit("/", 1)[-1]
    cp = ChargePoint(cbid, connection, cs)
    cs.stations[cbid] = cp
    try:
        await cp.start()
    except Exception:  # the connection ended (ConnectionClosed) or the station misbehaved
        pass
    finally:
        if cs.stations.get(cbid) is cp:
            del cs.stations[cbid]


# -- the benchmark's control port (loopback, one JSON line per request) ---------------


async def remote_start_rtt(cs: CentralSystem, cbid: str, connector: int, timeout: float) -> float:
    """RemoteStartTransaction → the station's StatusNotification Charging, in seconds."""
    cp = cs.stations.get(cbid)
    if cp is None:
        raise RuntimeError("station not connected")
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    cp.waiters[(connector, "Charging")] = waiter
    started = time.perf_counter()
    result = await asyncio.wait_for(
        cp.call(call.RemoteStartTransaction(id_tag="BENCH", connector_id=connector)), timeout
    )
    if result is None or result.status != RemoteStartStopStatus.accepted:
        raise RuntimeError(f"RemoteStart not accepted: {result}")
    await asyncio.wait_for(waiter, timeout)
    return time.perf_counter() - started


async def handle_control(cs: CentralSystem, request: dict[str, Any]) -> dict[str, Any]:
    if request["cmd"] == "census":
        return {"census": object_census(), "memory": memory_top()}
    if request["cmd"] in ("native", "trim"):
        return native_memory(trim=request["cmd"] == "trim")
    if request["cmd"] == "reset":
        cs.probes.reset()
        return {"ok": True}
    if request["cmd"] == "stats":
        return {
            "pid": os.getpid(),
            "connected": len(cs.stations),
            "messages": cs.messages,
            "probes": cs.probes.snapshot(),
        }
    if request["cmd"] == "remote_start":
        latencies: list[float] = []
        errors: list[str] = []

        async def one(cbid: str) -> None:
            try:
                latencies.append(
                    await remote_start_rtt(cs, cbid, request["connector"], request["timeout"])
                )
            except Exception as exc:
                errors.append(f"{cbid}: {type(exc).__name__}: {exc}")

        tasks = []
        began = time.monotonic()
        for i, cbid in enumerate(request["targets"]):
            # absolute schedule: a late loop catches up instead of drifting past the window
            await asyncio.sleep(max(0.0, began + i * request["interval"] - time.monotonic()))
            tasks.append(asyncio.create_task(one(cbid)))
        await asyncio.gather(*tasks)
        return {"latencies": latencies, "errors": errors}
    return {"error": f"unknown command {request['cmd']!r}"}


async def control_client(
    cs: CentralSystem, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while line := await reader.readline():
            reply = await handle_control(cs, json.loads(line))
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
    finally:
        writer.close()


async def amain(args: argparse.Namespace) -> None:
    cs = CentralSystem(args.db)
    lag_probe = asyncio.create_task(probe_lag(cs))
    control = await asyncio.start_server(
        lambda r, w: control_client(cs, r, w), "127.0.0.1", args.control_port
    )
    async with serve(
        lambda conn: on_connect(conn, cs),
        args.host,
        args.port,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        backlog=4096,
    ) as server:
        port = server.sockets[0].getsockname()[1] if server.sockets else args.port
        ctl = control.sockets[0].getsockname()[1]
        print(json.dumps({"ready": True, "port": port, "control_port": ctl}), flush=True)
        await server.serve_forever()
    lag_probe.cancel()


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--db", default="baseline.sqlite3")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    raise_fd_limit()
    try:
        asyncio.run(amain(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
