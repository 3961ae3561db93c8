"""A fleet of simulated stations in one process, driven by a scenario, with a live summary."""

from __future__ import annotations

import logging
import random
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TextIO

import trio
import trio.lowlevel

from simulator.driver import apply_fault, drive_sessions, pick_fault_targets
from simulator.scenario import FaultPlan, Scenario
from simulator.soap.service import ChargePointService
from simulator.soap.station import SoapStation
from simulator.station import CallObserver, SimulatedStation, StationSettings

__all__ = ["PROTOCOLS", "Fleet"]

log = logging.getLogger("simulator.fleet")

#: What a fleet speaks: OCPP 1.6-J (WebSocket) or OCPP 1.5 (SOAP over HTTP).
PROTOCOLS = ("ocpp1.6", "ocpp1.5")

Behaviour = Callable[[SimulatedStation, random.Random], Awaitable[None]]


class Fleet:
    """Stations of a scenario; :meth:`run` starts them (spread over ``ramp_seconds``)."""

    def __init__(
        self,
        url: str,
        scenario: Scenario,
        *,
        observer: CallObserver | None = None,
        ca_file: str | None = None,
        heartbeat_interval: float | None = None,
        history: int = 0,
        call_timeout: float = 30.0,
        protocol: str = "ocpp1.6",
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol is one of {', '.join(PROTOCOLS)}")
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        # OCPP 1.5: one ChargePointService listener (and HTTP client) for the whole fleet
        self.service = ChargePointService(ca_file=ca_file) if protocol == "ocpp1.5" else None
        kind = partial(SoapStation, service=self.service) if self.service else SimulatedStation
        self.stations: list[SimulatedStation] = [
            kind(
                StationSettings(
                    url,
                    cbid,
                    password=scenario.password,
                    outlets=scenario.outlets,
                    ca_file=ca_file,
                    serial_number=f"SN-{cbid}",
                    history=history,
                    heartbeat_interval=heartbeat_interval,
                    call_timeout=call_timeout,
                    config=scenario.config,
                ),
                observer=observer,
                rng=self.rng,  # one generator for the fleet: a Random is 2.5 KiB
            )
            for cbid in scenario.station_ids()
        ]
        self.started_at = 0.0
        self.crashes = 0

    async def run(
        self,
        *,
        behaviour: Behaviour | None = None,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Start every station (spread over the ramp); ``started`` at once, before the ramp.

        ``behaviour`` (default: the scenario's sessions) runs per station once it is accepted.
        """
        self.started_at = trio.current_time()
        step = self.scenario.ramp_seconds / max(1, len(self.stations))
        async with trio.open_nursery() as nursery:
            if self.service is not None:
                await nursery.start(self.service.run)
            for plan in self.scenario.faults:
                nursery.start_soon(self._fault, plan)
            task_status.started()
            for station in self.stations:
                nursery.start_soon(self._keep_running, station)
                nursery.start_soon(self._behave, station, behaviour)
                if step > 0:
                    await trio.sleep(step)
                else:
                    await trio.lowlevel.checkpoint()

    async def _behave(self, station: SimulatedStation, behaviour: Behaviour | None) -> None:
        """Once the station is accepted, run its behaviour (a task that may end at once)."""
        await station.wait_online()
        if behaviour is not None:
            await behaviour(station, self.rng)
        else:
            await drive_sessions(station, self.scenario, random.Random(self.rng.random()))

    async def _keep_running(self, station: SimulatedStation) -> None:
        """One station's bug must not end the fleet: log it, restart that station."""
        while True:
            try:
                await station.run()
                return
            except Exception:
                self.crashes += 1
                log.exception("%s crashed; restarting it", station.charge_box_id)
                await trio.sleep(5)

    async def _fault(self, plan: FaultPlan) -> None:
        await trio.sleep_until(self.started_at + plan.at)
        ids = [s.charge_box_id for s in self.stations]
        targets = set(pick_fault_targets(plan, ids, self.rng))
        async with trio.open_nursery() as nursery:
            for station in self.stations:
                if station.charge_box_id in targets:
                    nursery.start_soon(apply_fault, station, plan)

    def summary(self) -> dict[str, Any]:
        """Counts across the fleet for the live line."""
        connected = charging = sessions = sent = received = errors = queued = 0
        for station in self.stations:
            connected += station.online
            charging += sum(1 for o in station.outlets if o.status == "Charging")
            c = station.counters
            sessions += c["sessions"]
            sent += c["sent"]
            received += c["received"]
            errors += c["errors"] + c["call_errors"] + c["timeouts"]
            queued += len(station.txq)
        return {
            "stations": len(self.stations),
            "connected": connected,
            "charging": charging,
            "sessions": sessions,
            "messages": sent + received,
            "errors": errors,
            "queued": queued,
            "crashes": self.crashes,
            "states": dict(Counter(station.state for station in self.stations)),
        }

    async def print_summary(self, out: TextIO = sys.stderr, every: float = 1.0) -> None:
        """Rewrite one status line every ``every`` seconds."""
        last_messages, last_time = 0, trio.current_time()
        while True:
            await trio.sleep(every)
            s = self.summary()
            now = trio.current_time()
            rate = (s["messages"] - last_messages) / max(1e-6, now - last_time)
            last_messages, last_time = s["messages"], now
            out.write(
                f"\r[{now - self.started_at:7.1f}s] connected {s['connected']}/{s['stations']}"
                f"  charging {s['charging']}  sessions {s['sessions']}  msgs/s {rate:8.1f}"
                f"  queued {s['queued']}  errors {s['errors']}   "
            )
            out.flush()
