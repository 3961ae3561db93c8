"""One actor per connected station: a receive loop in its own nursery, where its outbox's
send loop and its pings run while they have work."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from db.engine.failures import FailureLog, is_storage_failure
from db.ocpp.ocpp_records import outlet_count
from db.ocpp.ocpp_transactions import MeterIn, MeterResult
from db.ocpp.station_batches import ConfigIn, store_configurations
from db.schema.models import utcnow
from gateway.batching import BatchingStore, WriteBatcher, urgent_writes
from gateway.call_context import CallContext
from gateway.config import GatewayConfig
from gateway.errors import (
    GatewayError,
)
from gateway.events import EventBus, LiveEvent
from gateway.frame_log import FrameLog
from gateway.importer import ConfigImporter
from gateway.logic import HANDLERS
from gateway.logic.stale import resume_idle_watches
from gateway.ocpp16.actions import ALL_ACTIONS
from gateway.ocpp16.framing import (
    Call,
    CallError,
    OcppError,
    pack_call_error,
    pack_call_result,
    parse_frame,
)
from gateway.ocpp16.limits import check_payload, connector_id_of
from gateway.ocpp16.schemas import SchemaSet
from gateway.outbox import Outbox
from gateway.pinger import Pinger
from gateway.state import StationState
from gateway.wsend import send_text

__all__ = ["StationActor"]

log = logging.getLogger(__name__)

#: seconds after a command during which the station's writes go ahead of bulk telemetry
URGENT_WINDOW = 10.0


class Hub(Protocol):
    """What an actor needs from the gateway that started it."""

    station_store: BatchingStore
    events: EventBus
    config: GatewayConfig
    schemas: SchemaSet
    meter_writer: WriteBatcher[MeterIn, MeterResult]
    importer: ConfigImporter
    storage_failures: FailureLog
    frame_log: FrameLog
    pinger: Pinger


class StationActor:
    """Owns one station's connection and run-time state.

    The receive loop parses, validates, routes and answers the station's CALLs (one at
    a time, as OCPP-J demands of the sender) and hands CALLRESULT/CALLERROR frames to
    the command loop, which sends the gateway's CALLs one at a time, each with a timeout.
    """

    __slots__ = (
        "__weakref__",  # the pinger's heap
        "_answering",
        "_cancel_scope",
        "_hub",
        "_nursery",
        "_received",
        "_refused_streak",
        "_ws",
        "charge_box_id",
        "config",
        "config_imported",
        "crashed",
        "ended",
        "meter_writer",
        "outbox",
        "ping_interval",
        "refusals_delayed",
        "replaced",
        "state",
        "store",
        "urgent_until",
    )

    def __init__(
        self,
        hub: Hub,
        ws: WebSocketConnection,
        state: StationState,
        *,
        config_imported: bool,
        ping_interval: float | None = None,
    ) -> None:
        self._hub = hub
        self._ws = ws
        self.state = state
        self.charge_box_id = state.charge_box_id
        self.store = hub.station_store
        self.meter_writer = hub.meter_writer
        self.config = hub.config
        self.config_imported = config_imported
        self.refusals_delayed = 0
        self.replaced = False
        self.ended = ""  # why the gateway ended the connection ("" = it did not)
        self.ping_interval = (
            ping_interval if ping_interval is not None else hub.config.ping_interval
        )
        self.crashed: BaseException | None = None
        self._cancel_scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None
        self.outbox = Outbox(
            self.charge_box_id, ws, hub.config, hub.schemas, self.end, self.log_frame
        )
        self._received = 0
        self._answering = ("", "")  # (unique id, action) of the CALL being answered
        self._refused_streak = 0  # CALLs refused in a row (bad input), for the backoff
        self.urgent_until = -math.inf  # until then its writes go first (it answers a command)

    # -- context for station logic ---------------------------------------------------

    def log_frame(
        self, direction: str, kind: str, unique_id: str, action: str, text: str | bytes
    ) -> None:
        """Keep a frame in the station's message log (a list append: no waiting)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self._hub.frame_log.frame(
            self.state.station_id, self.charge_box_id, direction, kind, unique_id, action, text
        )

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self._hub.events.publish(
            LiveEvent(kind, self.charge_box_id, data, utcnow(), self.state.site_id)
        )

    def import_configuration_soon(self) -> None:
        """Read the station's configuration with GetConfiguration once the reply is out."""
        if self.config_imported:
            return
        self.config_imported = True  # one import per connection at most
        if self._hub.importer.running:
            self._hub.importer.request(self)
        elif self._nursery is not None:
            self._nursery.start_soon(self.import_configuration)

    def start_soon(self, task: Callable[[], Awaitable[None]]) -> None:
        """Run ``task`` beside the connection; it ends with the connection."""
        if self._nursery is not None:
            self._nursery.start_soon(task)

    # -- life cycle -----------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the connection until it closes, is replaced, or the actor fails."""
        with trio.CancelScope() as scope:
            self._cancel_scope = scope
            if self.replaced or self.ended:
                scope.cancel()
            try:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    self.outbox.attach(nursery)
                    if self.ping_interval > 0:  # no task until a ping is due
                        self._hub.pinger.schedule(self, self.ping_interval)
                    # idle connectors of the last connection
                    resume_idle_watches(CallContext(self, "", ""))
                    task_status.started()
                    await self._receive_loop()
                    nursery.cancel_scope.cancel()
            finally:
                self._nursery = None
                self.outbox.attach(None)
                self.outbox.close()

    def connected(
        self, remote: str, *, heartbeat_interval: int | None, outlets: int, now: dt.datetime
    ) -> None:
        """The connection is this actor's now: the state says so."""
        state = self.state
        state.online = True
        state.remote = remote
        state.connected_at = state.last_seen = now
        state.last_seen_mono = trio.current_time()
        state.offline_since_mono = None
        state.heartbeat_interval = heartbeat_interval
        state.outlets = outlets

    def learn_running(self, sessions: list[tuple[int, int, int, int | None, str]]) -> None:
        """Sessions the database says are running (first sight since the gateway started)."""
        for tx, connector_id, meter_start, meter_last, _tag in sessions:
            connector = self.state.connector(connector_id)
            connector.transaction_id = tx
            connector.meter_start = meter_start
            connector.meter_wh = meter_last if meter_last is not None else meter_start

    def disconnected(self) -> None:
        """The connection ended and no newer one took over: offline from now."""
        state = self.state
        state.online = False
        state.disconnected_at = utcnow()
        state.offline_since_mono = trio.current_time()

    def replace(self) -> None:
        """End this connection because a newer one for the same station took over."""
        self.replaced = True
        self.end()

    def end(self, reason: str = "") -> None:
        """End the connection now (replaced, silent, or not taking data); the connection
        handler closes the socket within ``disconnect_timeout`` and marks it offline."""
        if reason:
            self.ended = reason
        if self._cancel_scope is not None:
            self._cancel_scope.cancel()

    def statistics(self) -> dict[str, Any]:
        return {
            "chargeBoxId": self.charge_box_id,
            "received": self._received,
            "sentCalls": self.outbox.sent_calls,
            "refusalsDelayed": self.refusals_delayed,
            "tasks": len(self._nursery.child_tasks) if self._nursery is not None else 0,
            **self.outbox.statistics(),
        }

    # -- commands ---------------------------------------------------------------------------

    async def call(
        self, action: str, payload: dict[str, Any], deadline: float | None = None
    ) -> dict[str, Any]:
        """Queue a CALL; wait for the station's CALLRESULT payload (or raise): see
        ``Outbox.call`` (one deadline covers queue, send and answer).

        For ``URGENT_WINDOW`` seconds after a command what the station sends (its
        StatusNotification, StartTransaction) is written ahead of the fleet's telemetry:
        a person waits for the outlet to show it. Its MeterValues only while they stand
        between the command and its answer (``_urgent``): the one it is waiting for now
        leaves the queue of telemetry at once. A station sends its next CALL only after
        our answer to this one (OCPP-J), so the status comes no sooner than that."""
        self.urgent_until = trio.current_time() + URGENT_WINDOW
        if self._answering[1] == "MeterValues":  # may still wait for a batch
            self.meter_writer.promote(self.state.station_id)
        return await self.outbox.call(action, payload, deadline)

    async def import_configuration(self) -> bool:
        """GetConfiguration, recorded by its command (the station's keys); True when done."""
        from gateway.commands import GetConfiguration, Target

        command = GetConfiguration()
        target = Target(self.state.station_id, self.charge_box_id)
        try:
            # not self.call: nobody waits for an import, so it opens no urgent window
            result = await self.outbox.call(command.action, command.payload(target.protocol))
            keys = await self.store.write_each(
                store_configurations,  # with the other imports of the moment
                ConfigIn(
                    self.state.station_id, result.get("configurationKey") or [], True, utcnow()
                ),
            )
            log.info("%s: imported %d configuration keys", self.charge_box_id, keys)
            return True
        except GatewayError as exc:
            self.config_imported = False
            log.warning("%s: configuration import failed: %s", self.charge_box_id, exc)
            return False

    def ping_due(self) -> None:
        """The gateway's pinger says this station's next WebSocket ping is due."""
        self.start_soon(self._ping)

    async def _ping(self) -> None:
        """One WebSocket ping; no pong within ``pong_timeout`` ends the connection (a
        socket dropped without a FIN is found this way), a pong schedules the next."""
        patience = self.config.pong_timeout
        try:
            with trio.move_on_after(patience) as waiting:
                await self._ws.ping()
        except ConnectionClosed:
            return
        if waiting.cancelled_caught:
            log.info("%s: no pong within %g s, closing", self.charge_box_id, patience)
            self.end(f"no answer to a WebSocket ping within {patience:g} s")
            return
        self._hub.pinger.schedule(self, self.ping_interval)

    # -- receiving --------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        state = self.state
        while True:
            try:
                message = await self._ws.get_message()
            except ConnectionClosed:
                return
            self._received += 1
            state.last_seen = utcnow()
            state.last_seen_mono = trio.current_time()
            reply = await self._dispatch(message)
            if reply is not None:
                self.log_frame("out", _reply_kind(reply), *self._answering, reply)
                try:
                    await send_text(self._ws, reply)  # not a scheduling round later
                except ConnectionClosed:
                    return

    async def _dispatch(self, message: str | bytes) -> str | None:
        """Handle one frame; the CALLRESULT/CALLERROR text to send back, if any."""
        try:
            frame = parse_frame(message)
        except OcppError as exc:
            log.info("%s: bad frame: %s", self.charge_box_id, exc)
            self._answering = (exc.unique_id or "-1", "")
            self.log_frame("in", "Malformed", exc.unique_id or "", "", message)
            await self._refused()
            return pack_call_error(exc.unique_id or "-1", exc.code, exc.description, exc.details)
        if isinstance(frame, Call):
            self._answering = (frame.unique_id, frame.action)
            self.log_frame("in", "Call", frame.unique_id, frame.action, message)
            if self._urgent(frame.action):  # answering a command
                token = urgent_writes.set(True)
                try:
                    return await self._handle_call(frame, message)
                finally:
                    urgent_writes.reset(token)
            return await self._handle_call(frame, message)
        kind = "CallError" if isinstance(frame, CallError) else "CallResult"
        self.log_frame("in", kind, frame.unique_id, self.outbox.action_of(frame.unique_id), message)
        self.outbox.deliver(frame)
        return None

    def _urgent(self, action: str) -> bool:
        """Whether this CALL's writes go ahead of the fleet's telemetry: for a while after
        a command; MeterValues only while a command of ours awaits the station's answer
        (sent before the answer, it delays it; after, it is the station's telemetry again,
        and answered ahead of the queue the station would send the next one at once)."""
        if action == "MeterValues":
            return self.outbox.awaiting_answer
        return trio.current_time() < self.urgent_until

    async def _refused(self) -> None:
        """Slow down a station whose CALLs are refused again and again (bad input).

        OCPP-J lets a station send its next CALL only after our answer, so holding the
        answer back costs one sleeping task and caps what a broken or hostile station can
        make the gateway parse: after ``refusal_backoff_after`` refusals in a row each
        answer waits 10 ms, doubling up to ``refusal_backoff_max``. One accepted CALL
        ends the streak; an honest station's occasional refusal is never delayed.
        """
        self._refused_streak += 1
        beyond = self._refused_streak - self.config.refusal_backoff_after
        if beyond > 0:
            self.refusals_delayed += 1
            await trio.sleep(min(0.01 * 2 ** min(beyond - 1, 16), self.config.refusal_backoff_max))

    async def _check_outlet(self, connector_id: int) -> None:
        """Refuse a connectorId beyond the station's outlets (read again: one may be new)."""
        state = self.state
        state.outlets = await self.store.read(outlet_count, state.station_id)
        if connector_id > state.outlets > 0:
            raise OcppError(
                "PropertyConstraintViolation",
                f"connectorId: {connector_id} is beyond this station's {state.outlets} outlets",
                {"field": "connectorId"},
            )

    async def _handle_call(self, call: Call, message: str | bytes) -> str:
        handler = HANDLERS.get(call.action)
        try:
            if handler is None:
                if call.action in ALL_ACTIONS:
                    raise OcppError(
                        "NotSupported", f"{call.action} is not handled by a central system"
                    )
                raise OcppError("NotImplemented", f"unknown action {call.action!r}")
            self._hub.schemas.validate_request(call.action, call.payload)
            raw = message if isinstance(message, str) else message.decode("utf-8")
            check_payload(call.payload, raw)
            connector_id = connector_id_of(call.payload)
            if connector_id is not None and connector_id > self.state.outlets > 0:
                await self._check_outlet(connector_id)
            reply = await handler(CallContext(self, call.unique_id, raw), call.payload)
            if self.config.check_own_replies:
                self._hub.schemas.validate_response(call.action, reply)
        except OcppError as exc:
            await self._refused()
            return pack_call_error(call.unique_id, exc.code, exc.description, exc.details)
        except Exception as exc:
            if is_storage_failure(exc):  # the database's fault: a line a minute, no traceback
                self._hub.storage_failures.report("storing a station message failed", exc)
                return pack_call_error(
                    call.unique_id, "InternalError", f"{call.action} could not be stored"
                )
            log.exception("%s: %s failed", self.charge_box_id, call.action)
            return pack_call_error(
                call.unique_id, "InternalError", f"{call.action} could not be processed"
            )
        self._refused_streak = 0
        return pack_call_result(call.unique_id, reply)


def _reply_kind(reply: str) -> str:
    """CallResult or CallError, from the packed reply's message type id (``[3,`` / ``[4,``)."""
    return "CallError" if reply[1:2] == "4" else "CallResult"
