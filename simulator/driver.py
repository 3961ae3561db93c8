"""Drives a station's outlets from a scenario: arrivals, sessions, departures, faults."""

from __future__ import annotations

import heapq
import random

import trio

from simulator.errors import SimulatorError
from simulator.meter import Ev
from simulator.outlet import FAULTS
from simulator.scenario import FaultPlan, Scenario
from simulator.station import SimulatedStation

__all__ = ["apply_fault", "drive_sessions", "pick_fault_targets"]


async def drive_sessions(station: SimulatedStation, scenario: Scenario, rng: random.Random) -> None:
    """Forever: people arrive at free outlets (Poisson), charge for a while, leave."""
    if scenario.arrival_per_hour <= 0:
        return
    rate = scenario.arrival_per_hour / 3600.0
    now = trio.current_time()
    events: list[tuple[float, int, str, str]] = []  # (when, connector, what, tag)
    for outlet in station.outlets:
        heapq.heappush(events, (now + rng.expovariate(rate), outlet.connector_id, "arrive", ""))
    while events:
        when, connector_id, what, tag = heapq.heappop(events)
        await trio.sleep_until(when)
        try:
            if what == "arrive":
                leave_in = await _arrive(station, scenario, rng, connector_id)
                if leave_in is None:
                    nxt = trio.current_time() + rng.expovariate(rate)
                    heapq.heappush(events, (nxt, connector_id, "arrive", ""))
                else:
                    leave_at = trio.current_time() + leave_in[0]
                    heapq.heappush(events, (leave_at, connector_id, "leave", leave_in[1]))
            else:
                outlet = station.outlet(connector_id)
                if tag and outlet.transaction is not None and rng.random() < 0.5:
                    await station.present_tag(connector_id, tag)  # stop by badge, then unplug
                await station.unplug(connector_id)
                outlet.pending_tag = None
                nxt = trio.current_time() + rng.expovariate(rate)
                heapq.heappush(events, (nxt, connector_id, "arrive", ""))
        except SimulatorError:
            heapq.heappush(events, (trio.current_time() + 30, connector_id, what, tag))


async def _arrive(
    station: SimulatedStation, scenario: Scenario, rng: random.Random, connector_id: int
) -> tuple[float, str] | None:
    outlet = station.outlet(connector_id)
    if outlet.status != "Available":
        return None  # busy, faulted, reserved, unavailable: this driver goes elsewhere
    ev = Ev(
        max_power_w=max(1.0, scenario.ev_power_kw.sample(rng)) * 1000,
        wanted_wh=max(0.1, scenario.energy_kwh.sample(rng)) * 1000,
    )
    ev.capacity_wh = max(ev.capacity_wh, ev.wanted_wh * 1.25)
    minutes = max(0.1, scenario.session_minutes.sample(rng))
    if rng.random() >= scenario.rfid_share:
        await station.plug_in(connector_id, ev, free=True)
        return minutes * 60, ""
    tag = rng.choice(scenario.tags)
    if rng.random() < scenario.tag_first_share:
        status = await station.present_tag(connector_id, tag)
        await trio.sleep(max(0.0, scenario.handling_seconds.sample(rng)))
        await station.plug_in(connector_id, ev)
    else:
        await station.plug_in(connector_id, ev)
        await trio.sleep(max(0.0, scenario.handling_seconds.sample(rng)))
        status = await station.present_tag(connector_id, tag)
    if status != "Accepted":
        return 10.0, ""  # refused: the driver gives up and leaves
    return minutes * 60, tag


def pick_fault_targets(plan: FaultPlan, ids: list[str], rng: random.Random) -> list[str]:
    """Which stations a fault plan hits."""
    if plan.stations:
        return [i for i in ids if i in plan.stations]
    count = max(plan.count, round(plan.share * len(ids))) if plan.share else plan.count
    return rng.sample(ids, min(count, len(ids)))


async def apply_fault(station: SimulatedStation, plan: FaultPlan) -> None:
    """Inject the fault now; undo it after ``plan.duration`` (0: leave it)."""
    kind = plan.kind
    connector = min(plan.connector, len(station.outlets))
    if kind in FAULTS:
        station.set_fault(connector, kind)
    elif kind in ("drop", "offline"):
        station.drop_connection(offline_for=plan.duration if kind == "offline" else 0.0)
        return
    elif kind == "silence":
        station.set_silent(True)
    elif kind == "slow":
        station.faults.answer_delay = plan.delay
    elif kind == "lost":
        station.faults.drop_answers += max(1, plan.count)
        return
    elif kind == "malformed":
        try:
            await station.send_raw('[2, "bad", "Heartbeat", {')  # truncated JSON
        except SimulatorError:
            pass
        return
    if plan.duration <= 0:
        return
    await trio.sleep(plan.duration)
    if kind in FAULTS:
        station.clear_fault(connector)
    elif kind == "silence":
        station.set_silent(False)
    elif kind == "slow":
        station.faults.answer_delay = 0.0
