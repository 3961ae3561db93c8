"""One load-generator process: many OCPP 1.6-J stations on one asyncio loop.

Each station connects at ``--start-at`` (a boot storm: all at once, at most
``--connect-concurrency`` handshakes + BootNotifications in flight so that the kernel's
accept queue does not overflow into SYN retries), reports every outlet Available (and in
``sustain`` mode authorizes and starts a transaction on outlet 1). The process then
prints ``{"booted": n}`` and waits for ``go WINDOW_LO WINDOW_HI`` on stdin; in the window
the stations either idle with heartbeats (``hold``) or keep exactly one MeterValues call
outstanding each (``sustain``). Every station answers RemoteStartTransaction like a
real one: Accepted, then StatusNotification Preparing, StartTransaction,
StatusNotification Charging, one after the other: its next MeterValues waits until the
chain is sent (a real station's meter values come every sample interval, not between
the steps of a start). One outstanding CALL per station at all times (OCPP-J).
Prints a JSON summary line at the end.

Run: ``python -m benchmarks.loadgen --port P --first 0 --count 1000 --mode sustain ...``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import random
import resource
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from benchmarks.wsclient import WsClientProtocol, open_websocket

__all__ = ["main"]


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class CallFailedError(Exception):
    """A CALL got a CALLERROR or no answer in time."""


class Recorder:
    """Latencies per action, kept only for calls completed inside the measured window."""

    def __init__(self) -> None:
        self.window = (float("inf"), float("-inf"))  # nothing counts before "go"
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.completed_in_window = 0

    def record(self, action: str, started: float, ended: float) -> None:
        lo, hi = self.window
        if started >= lo and ended <= hi:
            self.latencies[action].append(ended - started)
            self.completed_in_window += 1


class Station:
    def __init__(self, cbid: str, args: argparse.Namespace, rec: Recorder) -> None:
        self.cbid = cbid
        self.args = args
        self.rec = rec
        self.ws: WsClientProtocol | None = None
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.lock = asyncio.Lock()
        self.ids = itertools.count(1)
        self.meter_wh = random.randint(0, 100_000)
        self.transactions: dict[int, int] = {}  # connector → transaction id
        self.boot_at: float | None = None
        self.reconnects = 0  # connections refused or dropped before the boot was answered
        self.outlets_at: float | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop = asyncio.get_running_loop()
        self.poisoned = False  # sends meter values no column can hold (--poison-every)
        self.quiet = asyncio.Event()  # no remote start's chain to send: telemetry may go
        self.quiet.set()

    # -- wire --------------------------------------------------------------------------

    def on_text(self, text: str) -> None:
        msg = json.loads(text)
        kind = msg[0]
        if kind == 3 or kind == 4:
            fut = self.pending.pop(msg[1], None)
            if fut is not None and not fut.done():
                if kind == 3:
                    fut.set_result(msg[2])
                else:
                    fut.set_exception(CallFailedError(f"{msg[2]}: {msg[3]}"))
        elif kind == 2:
            self.on_call(msg[1], msg[2], msg[3])

    def reply(self, uid: str, payload: dict[str, Any]) -> None:
        assert self.ws is not None
        self.ws.send_text(json.dumps([3, uid, payload]))

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self.lock:
            assert self.ws is not None
            uid = str(next(self.ids))
            fut = self.loop.create_future()
            self.pending[uid] = fut
            timer = self.loop.call_later(self.args.call_timeout, self._expire, uid)
            started = time.perf_counter()
            self.ws.send_text(json.dumps([2, uid, action, payload]))
            try:
                result = await fut
            except CallFailedError:
                self.rec.errors[action] += 1
                raise
            finally:
                timer.cancel()
            self.rec.record(action, started, time.perf_counter())
            return result  # type: ignore[no-any-return]

    def _expire(self, uid: str) -> None:
        fut = self.pending.pop(uid, None)
        if fut is not None and not fut.done():
            fut.set_exception(CallFailedError("timeout"))

    # -- commands from the central system -----------------------------------------------

    def on_call(self, uid: str, action: str, payload: dict[str, Any]) -> None:
        if action == "RemoteStartTransaction":
            connector = int(payload.get("connectorId", 2))
            busy = connector in self.transactions
            self.reply(uid, {"status": "Rejected" if busy else "Accepted"})
            if not busy:
                self.quiet.clear()  # the chain goes next, after the CALL outstanding now
                self.spawn(self.remote_start(connector, payload["idTag"]))
        elif action == "GetConfiguration":
            keys = [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "MeterValueSampleInterval", "readonly": False, "value": "60"},
                {"key": "NumberOfConnectors", "readonly": True, "value": str(self.args.outlets)},
            ]
            self.reply(uid, {"configurationKey": keys})
        elif action in {"ChangeConfiguration", "TriggerMessage", "RemoteStopTransaction"}:
            self.reply(uid, {"status": "Accepted"})
        else:
            assert self.ws is not None
            self.ws.send_text(json.dumps([4, uid, "NotSupported", "not simulated", {}]))

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def remote_start(self, connector: int, id_tag: str) -> None:
        try:
            await self.status(connector, "Preparing")
            await self.start_transaction(connector, id_tag)
            await self.status(connector, "Charging")
        except CallFailedError:
            pass
        finally:
            self.quiet.set()

    # -- station behaviour ----------------------------------------------------------------

    async def status(self, connector: int, status: str) -> None:
        await self.call(
            "StatusNotification",
            {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": status,
                "timestamp": iso_now(),
            },
        )

    async def start_transaction(self, connector: int, id_tag: str) -> None:
        result = await self.call(
            "StartTransaction",
            {
                "connectorId": connector,
                "idTag": id_tag,
                "meterStart": self.meter_wh,
                "timestamp": iso_now(),
            },
        )
        self.transactions[connector] = int(result["transactionId"])

    async def stop_transactions(self) -> None:
        for connector, tx in list(self.transactions.items()):
            await self.call(
                "StopTransaction",
                {
                    "transactionId": tx,
                    "meterStop": self.meter_wh,
                    "timestamp": iso_now(),
                    "reason": "Local",
                },
            )
            del self.transactions[connector]

    async def meter_values(self, connector: int) -> None:
        self.meter_wh += random.randint(1, 30)
        await self.call(
            "MeterValues",
            {
                "connectorId": connector,
                "transactionId": self.transactions[connector],
                "meterValue": [
                    {
                        "timestamp": iso_now(),
                        "sampledValue": [
                            {
                                "value": "1e30" if self.poisoned else str(self.meter_wh),
                                "context": "Sample.Periodic",
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {
                                "value": "11000",
                                "context": "Sample.Periodic",
                                "measurand": "Power.Active.Import",
                                "unit": "W",
                            },
                        ],
                    }
                ],
            },
        )

    async def boot(self, start_at: float, gate: asyncio.Semaphore) -> None:
        """Connect and boot (at most ``gate`` stations at a time), report every outlet."""
        args = self.args
        path = f"{args.path.rstrip('/')}/{self.cbid}"
        auth = None
        if args.password:
            token = base64.b64encode(f"{self.cbid}:{args.password}".encode()).decode()
            auth = f"Basic {token}"
        await asyncio.sleep(max(0.0, start_at - time.time()))
        t0 = time.perf_counter()
        for attempt in range(1, max(1, args.connect_attempts) + 1):
            try:
                async with gate:
                    self.ws = await open_websocket(
                        args.host, args.port, path, self.on_text, authorization=auth
                    )
                    boot = await self._boot_notification(self.ws)
                break
            except (OSError, EOFError, CallFailedError):
                # refused or dropped in the storm: a real station tries again after a while
                if self.ws is not None:
                    self.ws.close()
                    self.ws = None
                if attempt >= args.connect_attempts:
                    raise
                self.reconnects += 1
                await asyncio.sleep(random.uniform(0.5, 1.0) * attempt)
        if boot.get("status") != "Accepted":
            raise CallFailedError(f"boot {boot.get('status')}")
        self.boot_at = time.perf_counter() - t0
        for connector in range(1, args.outlets + 1):
            await self.status(connector, "Available")
        self.outlets_at = time.perf_counter() - t0
        if args.mode == "sustain":
            await self.call("Authorize", {"idTag": f"A{self.cbid}"})
            await self.start_transaction(1, f"A{self.cbid}")
            await self.status(1, "Charging")

    async def _boot_notification(self, ws: WsClientProtocol) -> dict[str, Any]:
        """BootNotification; a connection closed before its answer fails it at once."""
        payload = {"chargePointVendor": "Bench", "chargePointModel": "LoadGen-4"}
        call = asyncio.ensure_future(
            self.call("BootNotification", {**payload, "firmwareVersion": "1.0"})
        )
        waits: list[asyncio.Future[Any]] = [call, ws.closed]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if not call.done():
            call.cancel()
            raise ConnectionResetError("closed before the BootNotification was answered")
        return call.result()

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed.done() and self.boot_at is not None

    async def phase(self, window_lo: float, stop_at: float) -> None:
        if self.args.mode == "sustain":
            await self.sustain(stop_at)
        else:
            await self.hold(window_lo, stop_at)
        await self.stop_transactions()

    async def hold(self, window_lo: float, stop_at: float) -> None:
        """Idle until the window, then a heartbeat at a random offset and every interval."""
        interval = self.args.heartbeat_interval
        first = window_lo + random.uniform(0, min(interval, stop_at - window_lo))
        await asyncio.sleep(max(0.0, first - time.time()))
        while time.time() < stop_at:
            await self.call("Heartbeat", {})
            await asyncio.sleep(max(0.0, min(interval, stop_at - time.time())))

    async def sustain(self, stop_at: float) -> None:
        next_heartbeat = time.time() + random.uniform(0, self.args.heartbeat_interval)
        while (now := time.time()) < stop_at:
            if now >= next_heartbeat:
                await self.call("Heartbeat", {})
                next_heartbeat = now + self.args.heartbeat_interval
            await self.quiet.wait()  # a remote start's StatusNotifications go first
            try:
                await self.meter_values(1)
            except CallFailedError:
                if not self.poisoned:
                    raise  # a poisoned station expects its CALLERROR and goes on


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def read_go(loop: asyncio.AbstractEventLoop) -> tuple[float, float]:
    """Wait for ``go WINDOW_LO WINDOW_HI`` (epoch seconds) on stdin."""
    line = await loop.run_in_executor(None, sys.stdin.readline)
    parts = line.split()
    if len(parts) != 3 or parts[0] != "go":
        raise SystemExit(f"loadgen: expected 'go LO HI' on stdin, got {line!r}")
    return float(parts[1]), float(parts[2])


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    """Boot every station, say so, wait for the window from the orchestrator, run it."""
    rec = Recorder()
    loop = asyncio.get_running_loop()
    start_at = args.start_at or time.time() + 0.5
    stations = [
        Station(f"{args.prefix}{i:05d}", args, rec)
        for i in range(args.first, args.first + args.count)
    ]
    if args.poison_every:
        for index, station in enumerate(stations, start=args.first):
            station.poisoned = index % args.poison_every == args.poison_every - 1
    gate = asyncio.Semaphore(args.connect_concurrency)
    boots = await asyncio.gather(
        *(s.boot(start_at, gate) for s in stations), return_exceptions=True
    )
    booted = [s for s, r in zip(stations, boots, strict=True) if not isinstance(r, BaseException)]
    sys.stdout.write(json.dumps({"booted": len(booted), "count": len(stations)}) + "\n")
    sys.stdout.flush()
    if args.start_at:
        window_lo, window_hi = await read_go(loop)
    else:  # standalone: the window starts now
        window_lo = time.time() + args.warmup
        window_hi = window_lo + args.duration
    # perf_counter and time.time tick together; translate the window once.
    offset = time.perf_counter() - time.time()
    rec.window = (window_lo + offset, window_hi + offset)
    cpu_window: dict[str, float] = {}

    async def cpu_marks() -> None:
        await asyncio.sleep(max(0.0, window_lo - time.time()))
        cpu_window["lo"] = time.process_time()
        cpu_window["connected_at_window"] = sum(s.connected for s in stations)
        await asyncio.sleep(max(0.0, window_hi - time.time()))
        cpu_window["hi"] = time.process_time()

    marks = asyncio.create_task(cpu_marks())
    phases = await asyncio.gather(
        *(s.phase(window_lo, window_hi) for s in booted), return_exceptions=True
    )
    await marks
    results = [r for r in boots if isinstance(r, BaseException)] + list(phases)
    failures: dict[str, int] = defaultdict(int)
    for r in results:
        if isinstance(r, BaseException):
            failures[f"{type(r).__name__}: {str(r)[:80]}"] += 1
    connected_at_end = sum(s.connected for s in stations)
    for s in stations:
        if s.ws is not None:
            s.ws.close()
    actions = {}
    for action, values in rec.latencies.items():
        values.sort()
        actions[action] = {
            "count": len(values),
            "p50": percentile(values, 0.50),
            "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99),
            "max": values[-1],
        }
    samples = (
        {a: [round(v, 6) for v in values] for a, values in rec.latencies.items()}
        if args.samples
        else {}
    )
    return {
        "samples": samples,
        "first": args.first,
        "count": args.count,
        "boot_reconnects": sum(s.reconnects for s in stations),
        "boot_times": sorted(s.boot_at for s in stations if s.boot_at is not None),
        "outlet_times": sorted(s.outlets_at for s in stations if s.outlets_at is not None),
        "connected_at_window": cpu_window.get("connected_at_window", 0),
        "connected_at_end": connected_at_end,
        "completed_in_window": rec.completed_in_window,
        "window_s": args.duration,
        "actions": actions,
        "poisoned": sum(s.poisoned for s in stations),
        "call_errors": dict(rec.errors),
        "failures": dict(failures),
        "cpu_s_in_window": cpu_window.get("hi", 0.0) - cpu_window.get("lo", 0.0),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OCPP 1.6-J load generator process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/Ocpp/websocket/")
    parser.add_argument("--prefix", default="BENCH")
    parser.add_argument("--password", default="")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--outlets", type=int, default=4)
    parser.add_argument("--mode", choices=["hold", "sustain"], default="hold")
    parser.add_argument(
        "--start-at",
        type=float,
        default=0.0,
        help="epoch seconds; then wait for 'go LO HI' on stdin after booting",
    )
    parser.add_argument(
        "--connect-concurrency", type=int, default=500, help="handshakes + boots in flight"
    )
    parser.add_argument(
        "--connect-attempts",
        type=int,
        default=5,
        help="tries to connect and boot, as a station would (backing off 0.5-1 s x the attempt)",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="standalone only")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--heartbeat-interval", type=float, default=30.0)
    parser.add_argument("--call-timeout", type=float, default=60.0)
    parser.add_argument("--samples", action="store_true", help="include every latency")
    parser.add_argument(
        "--poison-every",
        type=int,
        default=0,
        metavar="N",
        help="every Nth station (by number) sends meter value 1e30 and expects a CALLERROR",
    )
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    summary = asyncio.run(amain(args))
    sys.stdout.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
