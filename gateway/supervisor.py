"""Heartbeat watchdog: "No network" alarms for silent or disconnected stations, and
"Not registered" for configured stations that never connected (``db.system.alarm_actions``)."""

from __future__ import annotations

import logging
from collections.abc import Set
from typing import TYPE_CHECKING, Protocol

import trio

from db.ocpp.ocpp_records import known_stations, touch_last_seen
from db.schema.models import utcnow
from db.system.alarm_actions import NOT_REGISTERED, check_registrations
from db.system.alarms import AlarmChange, clear_alarms, raise_alarm
from gateway.events import LiveEvent
from gateway.state import StationState

if TYPE_CHECKING:
    from gateway.central import Gateway

__all__ = ["ClusterView", "Supervisor"]

log = logging.getLogger(__name__)

NO_NETWORK = "No network"


class ClusterView(Protocol):
    """What a node of several knows of the others (``gateway.cluster``)."""

    @property
    def is_leader(self) -> bool:
        """Whether this node runs the cluster-wide duties now."""
        ...

    def present(self) -> Set[str]:
        """Stations connected to any live node of the cluster."""
        ...


class Supervisor:
    """Periodically flushes last-seen times and raises or clears "No network".

    A connected station silent for longer than ``no_network_factor`` x its heartbeat
    interval is closed (it shows offline) and gets the alarm, as does a station
    disconnected for longer than ``offline_grace``; the alarm is cleared when the
    station talks again.
    """

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._alarmed: set[str] = set()  # stations with an active "No network" alarm
        self._flushed: dict[str, object] = {}  # the last-seen time last written, per station
        self._started = 0.0  # stations never seen since then count as offline since then
        self.ticks = 0
        self.raised = 0
        self.cleared = 0
        # Several nodes: each watches its own connections (silent -> closed + alarm, talks
        # again -> cleared); only the leader raises "disconnected" (nobody holds the
        # station) and "Not registered", and the alarm flags are read from the database.
        self.cluster: ClusterView | None = None
        self._absent_since: dict[str, float] = {}

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        gateway = self._gateway
        rows, alarmed = await gateway.store.read(known_stations, NO_NETWORK)
        self._started = trio.current_time()
        for charge_box_id, station_id, site_id in rows:
            gateway.registry.state_for(charge_box_id, station_id, site_id)
        self._alarmed |= alarmed
        task_status.started()
        while True:
            await trio.sleep(gateway.config.supervisor_interval)
            try:
                await self.tick()
            except Exception:
                log.exception("supervisor tick failed")

    def _offline_since(self, state: StationState) -> float:
        """When the station went offline (trio clock): its disconnection, else our start
        (with several nodes: not before it left the node that held it)."""
        since = state.offline_since_mono
        since = since if since is not None else self._started
        if self.cluster is not None:
            absent = self._absent_since.setdefault(state.charge_box_id, trio.current_time())
            since = max(since, absent)
        return since

    def alarmed(self, charge_box_id: str) -> bool:
        """Whether the station has an active "No network" alarm."""
        return charge_box_id in self._alarmed

    async def tick(self) -> None:
        """One pass of the watchdog (also called directly by tests)."""
        gateway = self._gateway
        config = gateway.config
        self.ticks += 1
        cluster = self.cluster
        if cluster is not None:  # another node may have raised or cleared since, and
            # stations first seen by another node are watched here too
            rows, self._alarmed = await gateway.store.read(known_stations, NO_NETWORK)
            for charge_box_id, station_id, site_id in rows:
                if gateway.registry.state(charge_box_id) is None:
                    gateway.registry.state_for(charge_box_id, station_id, site_id)
        leader = cluster is None or cluster.is_leader
        present = cluster.present() if cluster is not None else frozenset()
        if leader:
            await self._watch_registrations()
        await gateway.frame_log.clean()  # the station message log's retention (its own stations)
        now_mono = trio.current_time()
        seen: list[tuple[int, object]] = []
        to_close: list[tuple[StationState, str]] = []
        to_raise: list[tuple[StationState, str]] = []
        to_clear: list[StationState] = []
        for state in gateway.registry.states():
            cbid, last_seen = state.charge_box_id, state.last_seen
            if last_seen is not None and self._flushed.get(cbid) != last_seen:
                self._flushed[cbid] = last_seen
                seen.append((state.station_id, last_seen))
            alarmed = cbid in self._alarmed
            if state.online:
                silent_after = config.no_network_factor * max(
                    config.heartbeat_interval, state.heartbeat_interval or 0
                )
                silent = now_mono - state.last_seen_mono > silent_after
                if silent:
                    why = f"silent for more than {silent_after:g} s"
                    to_close.append((state, why))
                    if not alarmed:
                        to_raise.append((state, why))
                elif alarmed:
                    to_clear.append(state)
            elif cbid in present:
                self._absent_since.pop(cbid, None)  # online at another node
            elif (
                not alarmed
                and leader
                and now_mono - self._offline_since(state) > config.offline_grace
            ):
                to_raise.append((state, "disconnected"))
        for state, why in to_close:
            actor = gateway.registry.actor(state.charge_box_id)
            if actor is not None:
                log.info("%s: %s, closing the connection", state.charge_box_id, why)
                actor.end(why + ": connection closed")
        if not (seen or to_raise or to_clear):
            return
        now = utcnow()

        def unit() -> list[tuple[StationState, AlarmChange]]:
            touch_last_seen(seen)  # type: ignore[arg-type]
            changes = []
            for state, why in to_raise:
                changes.append(
                    (
                        state,
                        raise_alarm(
                            NO_NETWORK,
                            state.charge_box_id,
                            station_id=state.station_id,
                            site_id=state.site_id,
                            message=why,
                            now=now,
                        ),
                    )
                )
            for state in to_clear:
                for change in clear_alarms(state.charge_box_id, [NO_NETWORK], now=now):
                    changes.append((state, change))
            return changes

        changes = await gateway.store.write(unit)
        for state, _ in to_raise:
            self._alarmed.add(state.charge_box_id)
            self.raised += 1
        for state in to_clear:
            self._alarmed.discard(state.charge_box_id)
            self.cleared += 1
        for state, change in changes:
            gateway.events.publish(
                LiveEvent(
                    "alarm.raised" if change.raised else "alarm.cleared",
                    state.charge_box_id,
                    {"alarmId": change.alarm_id, "kind": NO_NETWORK, "message": change.message},
                    now,
                    state.site_id,
                )
            )

    async def _watch_registrations(self) -> None:
        """Raise "Not registered" for stations configured longer ago than the system
        setting that never connected; clear it once the station is online."""
        gateway = self._gateway
        online = {state.charge_box_id for state in gateway.registry.states() if state.online}
        if self.cluster is not None:
            online |= self.cluster.present()
        changes = await gateway.store.write(check_registrations, online)
        now = utcnow()
        for charge_box_id, site_id, change in changes:
            gateway.events.publish(
                LiveEvent(
                    "alarm.raised" if change.raised else "alarm.cleared",
                    charge_box_id,
                    {"alarmId": change.alarm_id, "kind": NOT_REGISTERED, "message": change.message},
                    now,
                    site_id,
                )
            )

    def statistics(self) -> dict[str, int]:
        return {"ticks": self.ticks, "raised": self.raised, "cleared": self.cleared}
