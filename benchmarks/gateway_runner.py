"""Run the gateway for the benchmark: its own process, default settings, a control port.

The same composition as ``chargeportal serve`` without the portal (``open_store`` +
``Gateway(store)`` with the default ``GatewayConfig``), plus a loopback control port
(one JSON line per request) through which the benchmark sends RemoteStartTransaction
via the public ``Gateway.call`` and reads statistics. The round trip is timed here,
from ``call`` to the station's StatusNotification Charging seen on the event bus.

Run: ``python -m benchmarks.gateway_runner --db sqlite:///FILE --port P``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import os
import resource
from functools import partial
from typing import Any

import trio

from benchmarks.chain_trace import Frame, attribute, summarize
from benchmarks.probes import Probes, memory_top, native_memory, object_census
from db import open_store
from gateway import Gateway, GatewayConfig
from gateway.events import next_batch

__all__ = ["main"]


def _is_charging(gateway: Gateway, cbid: str, connector: int, data: dict[str, Any]) -> bool:
    status = data.get("status")
    conn = data.get("connectorId", data.get("connector_id", data.get("connector")))
    if status is not None and conn is not None:
        return bool(status == "Charging" and int(conn) == connector)
    snap = gateway.snapshot(cbid)
    state = snap.connector(connector) if snap is not None else None
    return state is not None and state.status == "Charging"


class Control:
    """The benchmark's loopback control: statistics and timed remote starts."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.waiters: dict[str, tuple[int, trio.Event]] = {}
        self.seen: dict[str, list[tuple[float, str, Any]]] = {}  # events while waiting
        self.probes = Probes()
        # frames of the stations a remote start targets, for where its time goes
        self.frames: dict[str, list[Frame]] = {}
        self.chains: list[dict[str, float]] = []
        self.totals: list[float] = []
        self._trace_frames(gateway)

    def _trace_frames(self, gateway: Gateway) -> None:
        """Every frame the gateway logs of a traced station, timed as it passes (a dict
        lookup per frame of the others)."""
        keep = gateway.frame_log.frame
        frames = self.frames

        def frame(
            station_id: int, cbid: str, direction: str, kind: str, uid: str, action: str, text: str
        ) -> None:
            traced = frames.get(cbid)
            if traced is not None:
                status = ""
                if action == "StatusNotification" and kind == "Call":
                    status = str(json.loads(text)[3].get("status", ""))
                traced.append(Frame(trio.current_time(), direction, kind, action, status))
            keep(station_id, cbid, direction, kind, uid, action, text)

        gateway.frame_log.frame = frame  # type: ignore[method-assign, assignment]

    async def probe_lag(self) -> None:
        """Wake every 50 ms and record how late the wake-up was."""
        while True:
            due = trio.current_time() + 0.05
            await trio.sleep_until(due)
            self.probes.lag(trio.current_time() - due)

    async def watch_events(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with self.gateway.events.subscribe(max_buffer=100_000) as events:
            task_status.started()
            while True:
                # everything queued at once: one event per wake-up would fall behind and
                # time the watcher instead of the gateway
                for event in await next_batch(events):
                    self._check(event)

    def _check(self, event: Any) -> None:
        waiter = self.waiters.get(event.charge_box_id)
        if waiter is None or event.kind not in {"connector.status", "session.started"}:
            return
        self.seen.setdefault(event.charge_box_id, []).append(
            (trio.current_time(), event.kind, event.data.get("status"))
        )
        connector, done = waiter
        if _is_charging(self.gateway, event.charge_box_id, connector, event.data):
            done.set()

    async def remote_start_rtt(self, cbid: str, connector: int, timeout: float) -> float:
        done = trio.Event()
        self.waiters[cbid] = (connector, done)
        started = trio.current_time()
        answered: float | None = None
        try:
            with trio.fail_after(timeout):
                reply = await self.gateway.call(
                    cbid, "RemoteStartTransaction", {"connectorId": connector, "idTag": f"R{cbid}"}
                )
                answered = trio.current_time()
                if reply.get("status") != "Accepted":
                    raise RuntimeError(f"RemoteStart not accepted: {reply}")
                await done.wait()
            ended = trio.current_time()
            self.chains.append(attribute(self.frames.get(cbid, []), started, ended))
            self.totals.append(ended - started)
            return ended - started
        except trio.TooSlowError:
            if answered is None:
                raise trio.TooSlowError("no answer to RemoteStartTransaction") from None
            seen = ", ".join(
                f"{kind} {status} at {at - started:.1f} s"
                for at, kind, status in self.seen.get(cbid, [])
            )
            raise trio.TooSlowError(
                f"answered after {answered - started:.1f} s, no Charging status by {timeout:g} s"
                f" (seen: {seen or 'nothing'})"
            ) from None
        finally:
            self.waiters.pop(cbid, None)
            self.seen.pop(cbid, None)
            self.frames.pop(cbid, None)

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["cmd"] == "census":
            return {"census": object_census(), "memory": memory_top()}
        if request["cmd"] in ("native", "trim"):  # the C heap, SQLite, freed-but-kept pages
            return native_memory(trim=request["cmd"] == "trim")
        if request["cmd"] == "reset":
            self.probes.reset()
            return {"ok": True}
        if request["cmd"] == "stats":
            stats: Any = {}
            try:
                stats = self.gateway.statistics()
            except Exception as exc:
                stats = {"error": repr(exc)}
            return {
                "pid": os.getpid(),
                "connected": len(self.gateway.online_stations()),
                "statistics": json.loads(json.dumps(stats, default=str)),
                "probes": self.probes.snapshot(),
            }
        if request["cmd"] == "remote_start":
            latencies: list[float] = []
            errors: list[str] = []
            self.chains, self.totals = [], []
            for cbid in request["targets"]:  # from now: the CALL outstanding at its command
                self.frames[cbid] = []

            async def one(cbid: str) -> None:
                try:
                    latencies.append(
                        await self.remote_start_rtt(cbid, request["connector"], request["timeout"])
                    )
                except Exception as exc:
                    errors.append(f"{cbid}: {type(exc).__name__}: {exc}")

            async with trio.open_nursery() as nursery:
                began = trio.current_time()
                for i, cbid in enumerate(request["targets"]):
                    # absolute schedule: a late loop catches up instead of drifting
                    await trio.sleep_until(began + i * request["interval"])
                    nursery.start_soon(one, cbid)
            return {
                "latencies": latencies,
                "errors": errors,
                "breakdown": summarize(self.chains, self.totals),
            }
        return {"error": f"unknown command {request['cmd']!r}"}

    async def serve_client(self, stream: trio.SocketStream) -> None:
        buffer = b""
        try:
            async for chunk in stream:
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    reply = await self.handle(json.loads(line))
                    await stream.send_all(json.dumps(reply).encode() + b"\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass


async def gc_experiment(variant: str, interval: float = 10.0) -> None:
    """Experiment, not the default (``BENCH_GC_EXPERIMENT=threshold|freeze``).

    ``threshold``: young collections every 50,000 allocations instead of 700, so that
    fewer in-flight objects survive into the old generation; ``freeze`` also moves
    everything alive out of the collector's reach every ``interval`` seconds, so a full
    collection no longer walks the connected stations' objects.
    """
    gc.set_threshold(50_000, 20, 10)
    if variant != "freeze":
        return
    while True:
        await trio.sleep(interval)
        gc.freeze()


async def amain(args: argparse.Namespace) -> None:
    async with open_store(args.db) as store:
        config = GatewayConfig()
        if os.environ.get("BENCH_FRAME_LOG") == "off":  # A/B of the station message log
            config = dataclasses.replace(config, frame_log=False)
        gateway = Gateway(store, config=config)
        control = Control(gateway)
        async with trio.open_nursery() as nursery:
            await nursery.start(control.watch_events)
            nursery.start_soon(control.probe_lag)
            if variant := os.environ.get("BENCH_GC_EXPERIMENT"):
                nursery.start_soon(gc_experiment, variant)
            port = await nursery.start(partial(gateway.serve, args.host, args.port))
            listeners = await nursery.start(
                partial(trio.serve_tcp, control.serve_client, args.control_port, host="127.0.0.1")
            )
            control_port = listeners[0].socket.getsockname()[1]
            print(
                json.dumps({"ready": True, "port": port, "control_port": control_port}), flush=True
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        trio.run(amain, args)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
