"""``ClusterGateway``: the GatewayAPI of a process in a cluster (scale-out over PostgreSQL).

A command for a station held by this process's own gateway goes straight to it; any
other is routed through PostgreSQL to the node holding the station (a command row plus
NOTIFY; the answer comes back the same way), with the same deadline and the same errors
as in one process:

- nobody holds the station → ``StationOfflineError`` (``UnknownStationError`` when no
  such station exists), nothing sent;
- no node took the row by the deadline → ``CommandTimeoutError(sent=False)``, and the
  row is expired so that it is never sent later;
- the station moved before its node sent it (``StationMovedError``) → routed again while
  the deadline allows, else offline;
- the node holding it died after taking it → ``CommandTimeoutError(sent=True)``: the
  station may have received it, and nothing was recorded (the row is ``lost``; the dead
  node can no longer finish it).

Live state: the local gateway's own stations first, else the newest snapshot another
node sent (``SnapshotMirror``), its ``online`` set by the presence table.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import trio

from db import Store
from db.system.cluster import (
    Routed,
    command_state,
    expire_command,
    lose_command,
    node_alive,
    route_command,
)
from gateway.cluster.codec import decode_error, decode_result, encode_command
from gateway.cluster.events import ClusterEventBus
from gateway.cluster.node import ClusterNode
from gateway.commands import Command, CommandResult, check_command
from gateway.config import GatewayConfig
from gateway.errors import (
    CommandTimeoutError,
    StationMovedError,
    StationOfflineError,
    UnknownStationError,
)
from gateway.ocpp16.schemas import schemas
from gateway.snapshot import StationSnapshot

if TYPE_CHECKING:
    from gateway.central import Gateway
    from gateway.ocpp15.endpoint import SoapAnswer

__all__ = ["ClusterGateway"]

FINAL = frozenset({"done", "failed", "expired", "lost"})


class ClusterGateway:
    """GatewayAPI over a cluster: the local gateway (if any) plus every other node."""

    def __init__(
        self,
        store: Store,
        node: ClusterNode,
        local: Gateway | None = None,
        *,
        config: GatewayConfig | None = None,
    ) -> None:
        self.store = store
        self.node = node
        self.local = local
        self.config = config or (local.config if local is not None else GatewayConfig())
        self._schemas = local.schemas if local is not None else schemas()
        self._waiters: dict[int, trio.Event] = {}
        # answers heard before their waiter was registered, and answers carried by NOTIFY
        self._answered: OrderedDict[int, tuple[str, str] | None] = OrderedDict()
        self._finals: dict[int, tuple[str, str]] = {}
        node.on_answer(self._answer)
        self.routed = 0
        self.rerouted = 0
        self.polls = 0  # command rows read back (an answer NOTIFY usually spares it)

    # --- GatewayAPI -------------------------------------------------------------------

    @property
    def events(self) -> ClusterEventBus:
        return self.node.events

    @property
    def port(self) -> int | None:
        return self.local.port if self.local is not None else None

    def check_payload(self, action: str, payload: dict[str, Any]) -> None:
        check_command(self._schemas, action, payload)

    async def handle_soap15(
        self, body: bytes, headers: list[tuple[bytes, bytes]], remote: str, own_url: str = ""
    ) -> SoapAnswer:
        if self.local is not None:
            return await self.local.handle_soap15(body, headers, remote, own_url)
        from gateway.ocpp15.endpoint import SoapAnswer

        return SoapAnswer(503, b"OCPP 1.5 is served by processes with --role all or gateway")

    def leads_cluster(self) -> bool:
        return self.node.is_leader

    def is_online(self, charge_box_id: str) -> bool:
        local = self.local
        if local is not None and local.is_online(charge_box_id):
            return True
        return charge_box_id in self.node.present()

    def online_stations(self) -> list[str]:
        online = set(self.node.present())
        if self.local is not None:
            online.update(self.local.online_stations())
        return sorted(online)

    def snapshot(self, charge_box_id: str) -> StationSnapshot | None:
        local = self.local
        if local is not None and local.is_online(charge_box_id):
            return local.snapshot(charge_box_id)
        mirrored = self.node.events.mirror.get(charge_box_id)
        if mirrored is None:
            return local.snapshot(charge_box_id) if local is not None else None
        online = charge_box_id in self.node.present()
        if mirrored.online != online:
            mirrored = dataclasses.replace(mirrored, online=online)
        return mirrored

    async def send(
        self,
        charge_box_id: str,
        command: Command,
        *,
        deadline: float | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """``Gateway.send`` for a station on any node (see the module's text)."""
        if deadline is None:
            wait = timeout if timeout is not None else self.config.command_timeout
            deadline = trio.current_time() + wait if wait > 0 else math.inf
        local = self.local
        if local is not None and local.is_online(charge_box_id):
            return await local.send(charge_box_id, command, deadline=deadline)
        while True:
            try:
                return await self._send_remote(charge_box_id, command, deadline)
            except StationMovedError:
                if trio.current_time() >= deadline:
                    raise
                self.rerouted += 1
                await trio.sleep(0.2)  # the new node writes its presence row
                if local is not None and local.is_online(charge_box_id):
                    return await local.send(charge_box_id, command, deadline=deadline)

    # --- routing ------------------------------------------------------------------------

    async def _send_remote(
        self, charge_box_id: str, command: Command, deadline: float
    ) -> CommandResult:
        config = self.node.config
        wall_deadline = time.time() + min(deadline - trio.current_time(), 10 * 365 * 86400)
        routed: Routed = await self.store.write(
            route_command,
            charge_box_id,
            command.action,
            encode_command(command),
            wall_deadline,
            config.lease,
        )
        if routed.command_id is None:
            if not routed.station_known:
                raise UnknownStationError(f"no station {charge_box_id!r}")
            raise StationOfflineError(f"{charge_box_id} is offline: nothing was sent.")
        self.routed += 1
        command_id = routed.command_id
        event = self._waiters[command_id] = trio.Event()
        try:
            if command_id in self._answered:
                early = self._answered.pop(command_id)
                if early is not None:
                    self._finals[command_id] = early
                event.set()
            while True:
                now = trio.current_time()
                give_up = deadline + config.answer_grace
                # past the grace a live node is still finishing it: look once a second
                with trio.move_on_at(min(give_up, now + 1.0) if now < give_up else now + 1.0):
                    await event.wait()
                if event.is_set():
                    event = self._waiters[command_id] = trio.Event()
                final = self._finals.pop(command_id, None)
                if final is not None:
                    return self._outcome(charge_box_id, *final, routed.node_id or "?")
                self.polls += 1
                state, result, node_id = await self.store.read(command_state, command_id)
                if state in FINAL:
                    return self._outcome(charge_box_id, state, result, node_id)
                if trio.current_time() < give_up:
                    continue
                if state == "queued" and await self.store.write(expire_command, command_id):
                    raise CommandTimeoutError(
                        f"{charge_box_id}: node {node_id} did not take the command before "
                        "its deadline: nothing was sent.",
                        sent=False,
                        waited=trio.current_time() - (deadline - config.answer_grace),
                    )
                if state == "claimed":
                    alive = await self.store.read(node_alive, node_id, config.lease)
                    overdue = trio.current_time() >= deadline + config.lost_after
                    if (not alive or overdue) and await self.store.write(lose_command, command_id):
                        raise CommandTimeoutError(
                            f"{charge_box_id}: node {node_id} stopped answering after it "
                            "took the command: the station may have received it; its "
                            "answer, if any, was not recorded.",
                            sent=True,
                        )
        finally:
            self._waiters.pop(command_id, None)
            self._finals.pop(command_id, None)

    def _outcome(
        self, charge_box_id: str, state: str, result: str | None, node_id: str
    ) -> CommandResult:
        if state == "done" and result:
            return decode_result(result)
        if state == "failed" and result:
            raise decode_error(result)
        if state == "expired":
            raise CommandTimeoutError(
                f"{charge_box_id}: the command expired before node {node_id} took it: "
                "nothing was sent.",
                sent=False,
            )
        raise CommandTimeoutError(
            f"{charge_box_id}: node {node_id} stopped after it took the command: the "
            "station may have received it; its answer, if any, was not recorded.",
            sent=True,
        )

    def _answer(self, command_id: int | None, final: tuple[str, str] | None) -> None:
        if command_id is None:  # the listener reconnected: everyone looks again
            for event in self._waiters.values():
                event.set()
            return
        waiter = self._waiters.get(command_id)
        if waiter is not None:
            if final is not None:
                self._finals[command_id] = final
            waiter.set()
            return
        self._answered[command_id] = final  # may be ours, routed a moment ago
        while len(self._answered) > 1000:
            self._answered.popitem(last=False)

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = {
            "cluster": self.node.statistics(),
            "routed": self.routed,
            "rerouted": self.rerouted,
            "polls": self.polls,
        }
        if self.local is not None:
            stats.update(self.local.statistics())
        return stats
