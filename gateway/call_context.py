"""One CALL's view of its station: the CALL's own id and text, the actor for the rest.

A handler gets a fresh ``CallContext`` per CALL, so what it reads of the CALL (kept with
transaction messages, sometimes inside a database unit that runs later in the writer
thread) is fixed for that call, not a field of the long-lived actor that the next CALL
overwrites.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

from db.ocpp.ocpp_transactions import MeterIn, MeterResult
from gateway.batching import BatchingStore, WriteBatcher
from gateway.config import GatewayConfig
from gateway.state import StationState

__all__ = ["CallContext", "CallOwner"]


class CallOwner(Protocol):
    """Who owns the station's state while it talks: a 1.6 connection's actor, or a 1.5
    station's ``SoapStation`` (no socket)."""

    charge_box_id: str
    state: StationState
    store: BatchingStore
    meter_writer: WriteBatcher[MeterIn, MeterResult]
    config: GatewayConfig
    config_imported: bool

    def publish(self, kind: str, data: dict[str, Any]) -> None: ...

    def import_configuration_soon(self) -> None: ...

    def start_soon(self, task: Callable[[], Awaitable[None]]) -> None: ...

    async def call(
        self, action: str, payload: dict[str, Any], deadline: float | None = None
    ) -> dict[str, Any]: ...


class CallContext:
    """``gateway.logic.StationContext`` for one CALL (see the module docstring)."""

    __slots__ = (
        "_actor",
        "charge_box_id",
        "config",
        "config_imported",
        "meter_writer",
        "raw",
        "state",
        "store",
        "unique_id",
    )

    def __init__(self, actor: CallOwner, unique_id: str, raw: str) -> None:
        self._actor = actor
        self.unique_id = unique_id
        self.raw = raw
        self.charge_box_id: str = actor.charge_box_id
        self.state: StationState = actor.state
        self.store: BatchingStore = actor.store
        self.meter_writer: WriteBatcher[MeterIn, MeterResult] = actor.meter_writer
        self.config: GatewayConfig = actor.config
        self.config_imported: bool = actor.config_imported

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self._actor.publish(kind, data)

    def import_configuration_soon(self) -> None:
        self._actor.import_configuration_soon()

    def start_soon(self, task: Callable[[], Awaitable[None]]) -> None:
        self._actor.start_soon(task)

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """A CALL to the station (its deadline ``timeout`` s from now; default the
        gateway's command timeout); the CALLRESULT payload."""
        deadline = trio.current_time() + timeout if timeout is not None else None
        return await self._actor.call(action, payload, deadline)
