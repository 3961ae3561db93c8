"""An OCPP 1.5 station as the gateway sees it: no socket, online while heard from."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from db.ocpp.ocpp_transactions import MeterIn, MeterResult
from db.schema.models import utcnow
from gateway.batching import BatchingStore, WriteBatcher
from gateway.config import GatewayConfig
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    GatewayError,
    StationOfflineError,
    UnsupportedProtocolError,
)
from gateway.events import EventBus, LiveEvent
from gateway.frame_log import FrameLog
from gateway.ocpp15.client import call_station
from gateway.state import StationState
from ocpp15wire.schema import COMMANDS_15

__all__ = ["SoapHub", "SoapStation"]

log = logging.getLogger(__name__)


class SoapHub(Protocol):
    """What a 1.5 station needs from the gateway."""

    station_store: BatchingStore
    events: EventBus
    config: GatewayConfig
    meter_writer: WriteBatcher[MeterIn, MeterResult]
    frame_log: FrameLog


class SoapStation:
    """The run-time owner of a 1.5 station's state between its SOAP requests.

    It stands where a 1.6 station's actor stands (the registry, ``CallContext``): the
    station logic sees the same context. "Online" means heard from recently; the
    supervisor ends it (``end``) when the station falls silent.
    """

    protocol = "1.5"

    def __init__(
        self,
        hub: SoapHub,
        state: StationState,
        nursery: trio.Nursery | None,
        *,
        on_end: Callable[[SoapStation, str], None],
        config_imported: bool = False,
    ) -> None:
        self._hub = hub
        self._nursery = nursery
        self._on_end = on_end
        self.state = state
        self.charge_box_id = state.charge_box_id
        self.store = hub.station_store
        self.meter_writer = hub.meter_writer
        self.config = hub.config
        self.config_imported = config_imported
        self.endpoint = ""  # the station's own ChargePointService (wsa:From)
        self.own_url = ""  # our endpoint as the station reaches it (From of our commands)
        self.ended = ""
        self._one_at_a_time = trio.Lock()

    def heard(self, remote: str, endpoint: str, own_url: str = "") -> None:
        """A request arrived: the station is online and seen now."""
        state = self.state
        now = utcnow()
        if not state.online:
            state.connected_at = now
        state.online = True
        state.remote = remote
        state.last_seen = now
        state.last_seen_mono = trio.current_time()
        state.offline_since_mono = None
        if endpoint:
            self.endpoint = endpoint
        if own_url:
            self.own_url = own_url

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self._hub.events.publish(
            LiveEvent(kind, self.charge_box_id, data, utcnow(), self.state.site_id)
        )

    def import_configuration_soon(self) -> None:
        """Read the station's configuration (GetConfiguration over SOAP) beside the boot's
        answer, once per gateway run unless it fails; recorded by the command as for 1.6."""
        if self.config_imported:
            return
        self.config_imported = True
        self.start_soon(self._import_configuration)

    async def _import_configuration(self) -> None:
        from gateway.commands import GetConfiguration, Target

        command = GetConfiguration()
        target = Target(self.state.station_id, self.charge_box_id, self.protocol)
        try:
            result = await self.call(command.action, command.payload(self.protocol))
            await self.store.write(command.apply, target, result)
        except GatewayError as exc:
            self.config_imported = False
            log.warning("%s: configuration import failed: %s", self.charge_box_id, exc)
        except Exception:
            self.config_imported = False
            log.exception("%s: configuration import failed", self.charge_box_id)

    def start_soon(self, task: Callable[[], Awaitable[None]]) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(task)

    async def call(
        self, action: str, payload: dict[str, Any], deadline: float | None = None
    ) -> dict[str, Any]:
        """POST the command to the station's own endpoint (one at a time, like 1.6); one
        deadline covers the wait for the previous command, the request and the answer."""
        if action not in COMMANDS_15:
            raise UnsupportedProtocolError(f"{action} is not supported by OCPP 1.5")
        if not self.endpoint:
            raise StationOfflineError(
                f"{self.charge_box_id}: its ChargePointService address is not known yet "
                "(it is learnt from the From header of the station's requests)"
            )
        if deadline is None:
            deadline = trio.current_time() + self.config.command_timeout
        started = trio.current_time()
        with trio.move_on_at(deadline):
            async with self._one_at_a_time:
                # the message log keeps our command and its answer in their 1.6-J shapes
                ref = f"urn:uuid:{uuid.uuid4()}"
                self._log("Call", ref, action, json.dumps([2, ref, action, payload]))
                try:
                    answer = await call_station(
                        self.endpoint,
                        self.charge_box_id,
                        action,
                        payload,
                        deadline,
                        reply_to=self.own_url,
                    )
                except CallErrorReply as refused:
                    error = [4, ref, refused.code, refused.description, refused.details]
                    self._log("CallError", ref, action, json.dumps(error))
                    raise
                self._log("CallResult", ref, action, json.dumps([3, ref, answer]))
                return answer
        waited = trio.current_time() - started
        raise CommandTimeoutError(
            f"{self.charge_box_id}: {action} still queued at its deadline",
            sent=False,
            waited=waited,
        )

    def _log(self, kind: str, ref: str, action: str, text: str) -> None:
        direction = "out" if kind == "Call" else "in"
        self._hub.frame_log.frame(
            self.state.station_id, self.charge_box_id, direction, kind, ref, action, text
        )

    def replace(self) -> None:
        """A 1.6 connection took over (a firmware upgrade): it owns the state from now."""
        self.ended = "replaced by an OCPP 1.6 connection"

    def end(self, reason: str = "") -> None:
        """Silent for too long: offline until heard from again."""
        self.ended = reason
        state = self.state
        state.online = False
        state.disconnected_at = utcnow()
        state.offline_since_mono = trio.current_time()
        self._on_end(self, reason)
