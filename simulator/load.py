"""Load runs: many stations, one behaviour, counters and latency percentiles per action."""

from __future__ import annotations

import gc
import json
import random
import resource
import sys
import tempfile
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import trio

from simulator.errors import SimulatorError
from simulator.fleet import Fleet
from simulator.meter import sampled_values
from simulator.scenario import Scenario
from simulator.station import SimulatedStation
from simulator.stats import Recorder, merge_summaries

__all__ = ["LoadOptions", "run_load", "run_load_processes"]

MODES = ("idle", "meter", "sessions")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """A load run: who connects where, doing what, for how long."""

    url: str
    stations: int = 100
    outlets: int = 1
    id_prefix: str = "LOAD"
    first_index: int = 1
    id_width: int = 4
    password: str | None = None
    ca_file: str | None = None
    mode: str = "idle"  # idle (boot + heartbeats), meter (one MeterValues outstanding), sessions
    duration: float = 30.0
    heartbeat: float | None = None  # override the central system's interval
    think: float = 0.0  # pause between calls in meter mode
    ramp: float = 0.0
    call_timeout: float = 30.0
    settle: float = 0.0  # extra wait after all stations are accepted before measuring
    boot_timeout: float = 120.0  # longest wait for the boot storm before measuring anyway
    plugged: bool = False  # a car on every outlet (Preparing) from the start
    scenario: Scenario | None = None
    protocol: str = "ocpp1.6"  # or "ocpp1.5" (SOAP)


async def _meter_loop(station: SimulatedStation, rng: random.Random, think: float) -> None:
    outlet = station.outlets[0]
    while True:
        outlet.meter.energy_wh += rng.uniform(1, 30)
        value = {
            "timestamp": station.timestamp(),
            "sampledValue": sampled_values(
                outlet.meter,
                None,
                ["Energy.Active.Import.Register", "Power.Active.Import"],
                context="Sample.Periodic",
                limit_w=outlet.limit_w,
            ),
        }
        try:
            await station.call("MeterValues", {"connectorId": 1, "meterValue": [value]})
        except SimulatorError:
            await station.wait_online()
        if think > 0:
            await trio.sleep(think)


async def run_load(options: LoadOptions) -> dict[str, Any]:
    """Run the load in this process; the JSON-ready summary."""
    if options.mode not in MODES:
        raise ValueError(f"mode is one of {', '.join(MODES)}")
    base = options.scenario or Scenario(arrival_per_hour=0)
    scenario = replace(
        base,
        stations=options.stations,
        outlets=options.outlets,
        id_prefix=options.id_prefix,
        first_index=options.first_index,
        id_width=options.id_width,
        password=options.password,
        ramp_seconds=options.ramp,
    )
    if options.mode != "sessions":
        scenario.faults = []
    recorder = Recorder(options.stations)
    fleet = Fleet(
        options.url,
        scenario,
        observer=recorder,
        ca_file=options.ca_file,
        heartbeat_interval=options.heartbeat,
        call_timeout=options.call_timeout,
        protocol=options.protocol,
    )

    async def idle(station: SimulatedStation, rng: random.Random) -> None:
        if options.plugged:  # cars waiting: a RemoteStart goes straight to Charging
            for outlet in station.outlets:
                await station.plug_in(outlet.connector_id)
        # nothing else besides heartbeats: no extra task per station

    async def meter(station: SimulatedStation, rng: random.Random) -> None:
        await idle(station, rng)
        await _meter_loop(station, rng, options.think)

    behaviour = {"idle": idle, "meter": meter, "sessions": None}[options.mode]
    tune_gc()
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(fleet.run, behaviour=behaviour))
        # Boot storm first: wait (bounded) until every station is accepted, then measure.
        with trio.move_on_after(options.boot_timeout):
            await recorder.all_accepted.wait()
        boot = recorder.summary(trio.current_time() - recorder.started_at)
        if options.settle > 0:
            await trio.sleep(options.settle)
        recorder.reset_calls()
        started = trio.current_time()
        await trio.sleep(options.duration)
        summary = recorder.summary(trio.current_time() - started)
        summary["mode"] = options.mode
        summary["boot"] = {
            "seconds": boot["boot_storm_seconds"],
            "accepted": boot["ever_accepted"],
            "actions": {
                name: {k: v for k, v in figures.items() if k != "histogram"}
                for name, figures in boot["actions"].items()
            },
        }
        summary["fleet"] = fleet.summary()
        summary["rss_kib"] = rss_kib()
        nursery.cancel_scope.cancel()
    return summary


def tune_gc() -> None:
    """Thousands of long-lived station objects: collect young garbage rarely, old never."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1_000)


def rss_kib() -> int:
    """Peak resident memory of this process (KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


async def run_load_processes(
    options: LoadOptions, processes: int, argv: list[str]
) -> dict[str, Any]:
    """Split the stations over ``processes`` child processes and merge their summaries."""
    per = [
        options.stations // processes + (1 if i < options.stations % processes else 0)
        for i in range(processes)
    ]
    first = options.first_index
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with trio.open_nursery() as nursery:
            for index, count in enumerate(per):
                if count == 0:
                    continue
                out = str(trio.Path(tmp) / f"part{index}.json")
                cmd = [
                    sys.executable,
                    "-m",
                    "simulator",
                    "load",
                    *argv,
                    "--stations",
                    str(count),
                    "--first-index",
                    str(first),
                    "--processes",
                    "1",
                    "--json-out",
                    out,
                    "--quiet",
                ]
                first += count
                nursery.start_soon(_child, cmd)
        for index in range(processes):
            path = trio.Path(tmp) / f"part{index}.json"
            if await path.exists():
                results.append(json.loads(await path.read_text()))
    return merge_summaries(results)


async def _child(cmd: list[str]) -> None:
    await trio.run_process(cmd, check=True)
