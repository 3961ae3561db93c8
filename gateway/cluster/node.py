"""One process of a cluster on PostgreSQL: its lease, its stations' presence, its listener.

A ``ClusterNode`` registers the process as a node (``cluster_node``) and renews its
lease every ``renew_every`` seconds, with the leases of the stations it holds
(``station_presence``). With a local gateway it writes presence as stations come and go
(batched: a boot storm is a few transactions), closes a station's socket when another
node takes it over, runs the commands routed to it (``CommandExecutor``) and forwards its
live events. With a portal it receives events and answers (``ClusterGateway``). The
leader (advisory lock) releases what dead nodes held.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Set
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import trio

from db import Store
from db.system.cluster import (
    ANSWER_CHANNEL,
    COMMAND_CHANNEL,
    EVENT_CHANNEL,
    RESYNC_CHANNEL,
    TAKEOVER_CHANNEL,
    NodeIdInUseError,
    leave_cluster,
    notify,
    present_stations,
    register_node,
    release_stations,
    renew_node,
    station_connected,
    sweep,
)
from gateway.cluster.events import ClusterEventBus
from gateway.cluster.executor import CommandExecutor
from gateway.cluster.leader import Leadership
from gateway.cluster.pglisten import PgListener

if TYPE_CHECKING:
    from gateway.central import Gateway

__all__ = ["AnswerHandler", "ClusterConfig", "ClusterNode", "new_node_id"]

#: told the id of a command that was answered, with (state, result) when the NOTIFY
#: carried them (None: maybe several were answered, look again)
AnswerHandler = Callable[[int | None, tuple[str, str] | None], None]

log = logging.getLogger(__name__)


def new_node_id(role: str) -> str:
    """``host-role-pid-xxxx``: unique per process start."""
    return f"{socket.gethostname()[:40]}-{role}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class ClusterConfig:
    """Tunables of a node (seconds)."""

    node_id: str
    role: str = "all"  # all | gateway | portal
    lease: float = 15.0  # a node (and its stations) not renewed for this long is dead
    renew_every: float = 5.0
    sweep_every: float = 5.0  # the leader releases dead nodes' leases this often
    presence_refresh: float = 2.0  # a portal re-reads which node holds which station
    event_window: float = 0.05  # live events gather this long before one NOTIFY
    answer_grace: float = 5.0  # a command's sender waits this long past its deadline
    lost_after: float = 60.0  # ... and gives a claimed command up this long past it
    leader_every: float = 5.0  # a follower tries to become leader this often


def _running(pid: int) -> bool:
    """Whether a process with this pid runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _epoch(moment: dt.datetime | None) -> float:
    if moment is None:
        return 0.0
    return moment.replace(tzinfo=dt.UTC).timestamp()


class ClusterNode:
    """The cluster duties of one process (see the module's text)."""

    def __init__(
        self,
        store: Store,
        config: ClusterConfig,
        *,
        gateway: Gateway | None = None,
        events: ClusterEventBus | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.node_id = config.node_id
        self.gateway = gateway
        self.events = events or ClusterEventBus(config.node_id, window=config.event_window)
        self.leadership = Leadership(
            store.database, interval=config.leader_every, name=f"cp-leader {config.node_id}"
        )
        self.executor = CommandExecutor(gateway, store, config.node_id) if gateway else None
        self._present: dict[str, str] = {}  # station -> node, as last read (portal)
        self._present_marks: dict[str, tuple[float, str | None]] = {}
        self._changes: dict[str, tuple[bool, float]] = {}  # station -> (online, since)
        self._changes_wake = trio.Event()
        self._answer_handlers: list[AnswerHandler] = []
        self._nursery: trio.Nursery | None = None
        self.takeovers = 0
        self.sweeps: dict[str, int] = {}
        # on a clean stop, release this node's rows at once (False: leave them to the
        # lease, as a crash would)
        self.release_on_stop = True

    # --- what the rest of the process asks ------------------------------------------

    @property
    def is_leader(self) -> bool:
        return self.leadership.is_leader

    def present(self) -> Set[str]:
        """Stations held by live nodes (as last read, with the events heard since)."""
        return self._present.keys()

    def holder(self, charge_box_id: str) -> str | None:
        return self._present.get(charge_box_id)

    def on_answer(self, handler: AnswerHandler) -> None:
        self._answer_handlers.append(handler)

    # --- running ---------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        config = self.config
        host = socket.gethostname()
        try:
            await self.store.write(
                register_node, self.node_id, config.role, host, os.getpid(), config.lease
            )
        except NodeIdInUseError as taken:
            if taken.host != host or _running(taken.pid):
                raise
            # our own predecessor on this host died (a restarted worker): its lease is ours
            log.warning("node %s: pid %d is gone, taking its lease over", self.node_id, taken.pid)
            await self.store.write(
                partial(register_node, force=True),
                self.node_id,
                config.role,
                host,
                os.getpid(),
                config.lease,
            )
        channels = [ANSWER_CHANNEL]
        if config.role != "gateway":  # a portal here: it shows what every node sees
            channels.append(EVENT_CHANNEL)
        if self.gateway is not None:
            channels += [COMMAND_CHANNEL, TAKEOVER_CHANNEL, RESYNC_CHANNEL]
        listener = PgListener(
            self.store.database,
            channels,
            self._notified,
            on_connect=self._connected,
            name=f"cp-listen {self.node_id}",
        )
        try:
            await self._run(listener, task_status)
        finally:
            if self.release_on_stop:
                with trio.CancelScope(shield=True), trio.move_on_after(5):
                    try:
                        counts = await self.store.write(leave_cluster, self.node_id)
                        log.info("node %s left the cluster: %s", self.node_id, counts)
                    except Exception:
                        log.exception("node %s: releasing its rows failed", self.node_id)

    async def _run(self, listener: PgListener, task_status: trio.TaskStatus[None]) -> None:
        config = self.config
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(listener.run)
            if self.gateway is not None:  # the leader supervises stations: it has a gateway
                await nursery.start(self.leadership.run)
            nursery.start_soon(self._renew_loop)
            nursery.start_soon(self._sweep_loop)
            await self._refresh_presence()
            nursery.start_soon(self._presence_refresh_loop)
            if self.gateway is not None:
                assert self.executor is not None
                await nursery.start(self.executor.run)
                nursery.start_soon(self._presence_writer)
                await nursery.start(self._watch_local_stations)

            if self.events.forward:  # a portal's own events too (alarm acknowledged…)
                snapshot_of = self.gateway.snapshot if self.gateway is not None else None
                await nursery.start(self.events.run_forwarder, self.store, snapshot_of)
            self.events.on_remote = self._remote_event
            if config.role != "gateway":  # a portal here: the others' stations as they are
                await self.store.write(notify, RESYNC_CHANNEL, [self.node_id])
            log.info("cluster node %s (%s) running", self.node_id, config.role)
            task_status.started()

    async def _connected(self) -> None:
        """The LISTEN connection is (again) open: catch up on what it may have missed."""
        if self.executor is not None:
            self.executor.wake()
        for handler in self._answer_handlers:
            handler(None, None)

    def _notified(self, channel: str, payload: str) -> None:
        if channel == ANSWER_CHANNEL:
            parts = payload.split(" ", 2)
            final = (parts[1], parts[2]) if len(parts) == 3 else None
            for handler in self._answer_handlers:
                handler(int(parts[0]), final)
        elif channel == EVENT_CHANNEL:
            self.events.receive(payload)
        elif channel == COMMAND_CHANNEL:
            if payload == self.node_id and self.executor is not None:
                self.executor.wake()
        elif channel == TAKEOVER_CHANNEL:
            self._taken_over(json.loads(payload))
        elif channel == RESYNC_CHANNEL and payload != self.node_id and self._nursery:
            self._nursery.start_soon(self._resync)

    # --- presence (a node with a gateway) ---------------------------------------------

    async def _watch_local_stations(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Station online/offline events of the local gateway become presence changes."""
        async with self.events.subscribe(max_buffer=100_000) as events:
            task_status.started()
            async for event in events:
                gateway = self.gateway
                if event.kind == "station.online":
                    if gateway is not None and gateway.is_online(event.charge_box_id):
                        self._change(event.charge_box_id, True)  # not another node's event
                elif event.kind == "station.offline":
                    self._change(event.charge_box_id, False)

    def _change(self, charge_box_id: str, online: bool) -> None:
        self._changes[charge_box_id] = (online, time.time())
        self._changes_wake.set()

    async def _presence_writer(self) -> None:
        """Write the queued presence changes, each batch in one unit of work."""
        while True:
            await self._changes_wake.wait()
            self._changes_wake = trio.Event()
            changes, self._changes = self._changes, {}
            came = [(cbid, since) for cbid, (online, since) in changes.items() if online]
            gone = [cbid for cbid, (online, _) in changes.items() if not online]

            try:
                taken = await self.store.write(self._write_presence, came, gone)
            except Exception:
                log.exception("writing the presence of %d stations failed", len(changes))
                continue  # the next renewal makes the rows right
            if taken:
                log.info("took over %d stations from other nodes", len(taken))

    def _write_presence(self, came: list[tuple[str, float]], gone: list[str]) -> list[str]:
        if gone:
            release_stations(self.node_id, gone)
        return station_connected(self.node_id, came) if came else []

    def _taken_over(self, message: dict[str, object]) -> None:
        """Another node holds a station now: close our connection if it is older."""
        if message.get("node") != self.node_id or self.gateway is None:
            return
        charge_box_id = str(message.get("station"))
        actor = self.gateway.registry.actor(charge_box_id)
        if actor is None:
            return
        since = float(message.get("since") or 0.0)  # type: ignore[arg-type]
        if _epoch(actor.state.connected_at) <= since:
            self.takeovers += 1
            log.info("%s: taken over by node %s, closing here", charge_box_id, message.get("by"))
            actor.replace()

    async def _renew_loop(self) -> None:
        while True:
            await trio.sleep(self.config.renew_every)
            online = self.gateway.registry.online() if self.gateway is not None else []
            try:
                if self.gateway is None:
                    await self.store.write(renew_node, self.node_id, [])
                else:
                    await self.store.write(renew_node, self.node_id, online)
            except Exception:
                log.exception("renewing the lease of node %s failed", self.node_id)

    async def _sweep_loop(self) -> None:
        while True:
            await trio.sleep(self.config.sweep_every)
            if not self.leadership.is_leader:
                continue
            try:
                counts = await self.store.write(sweep, self.config.lease)
            except Exception:
                log.exception("releasing dead nodes' leases failed")
                continue
            for key, value in counts.items():
                self.sweeps[key] = self.sweeps.get(key, 0) + value
            if counts["deadNodes"]:
                log.warning(
                    "released %d dead nodes: %d stations, %d commands lost",
                    counts["deadNodes"],
                    counts["releasedStations"],
                    counts["lostCommands"],
                )

    async def _resync(self) -> None:
        """A portal started: send it the snapshot of every station seen here."""
        if self.gateway is None:
            return
        gateway = self.gateway
        snapshots = [
            state.snapshot(no_network_alarm=gateway.supervisor.alarmed(state.charge_box_id))
            for state in gateway.registry.states()
            if state.online
        ]
        if snapshots:
            try:
                await self.events.send_snapshots(self.store, snapshots)
            except Exception:
                log.exception("sending %d snapshots failed", len(snapshots))

    # --- presence as others see it (a portal) -------------------------------------------

    def _remote_event(self, event: object, snapshot: object, origin: str) -> None:
        kind = getattr(event, "kind", "")
        cbid = getattr(event, "charge_box_id", "")
        online = None
        if kind == "station.online":
            online = True
        elif kind == "station.offline":
            online = False
        elif snapshot is not None:
            online = bool(getattr(snapshot, "online", False))
        if online is None:
            return
        if online:
            self._present[cbid] = origin
        elif self._present.get(cbid, origin) == origin:
            self._present.pop(cbid, None)
        else:
            return  # the node it left says offline; another node holds it now
        self._present_marks[cbid] = (trio.current_time(), origin if online else None)

    async def _refresh_presence(self) -> None:
        started = trio.current_time()
        present = await self.store.read(present_stations, self.config.lease)
        for cbid, (when, node) in list(self._present_marks.items()):
            if when >= started:  # heard after the read began: newer than the table
                if node is None:
                    present.pop(cbid, None)
                else:
                    present.setdefault(cbid, node)
            else:
                del self._present_marks[cbid]
        self._present = present

    async def _presence_refresh_loop(self) -> None:
        while True:
            await trio.sleep(self.config.presence_refresh)
            try:
                await self._refresh_presence()
            except Exception:
                log.exception("reading station presence failed")

    def statistics(self) -> dict[str, object]:
        return {
            "nodeId": self.node_id,
            "role": self.config.role,
            "leader": self.leadership.is_leader,
            "present": len(self._present),
            "takeovers": self.takeovers,
            "sweeps": dict(self.sweeps),
            "events": self.events.statistics(),
            "executor": self.executor.statistics() if self.executor is not None else {},
        }
