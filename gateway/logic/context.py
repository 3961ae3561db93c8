"""What station logic may use (provided by the station's actor), and shared helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from db.ocpp.authorization import TagAuthorization
from db.ocpp.ocpp_transactions import MeterIn, MeterResult
from gateway.batching import BatchingStore, WriteBatcher
from gateway.config import GatewayConfig
from gateway.ocpp16.convert import format_datetime
from gateway.state import StationState

__all__ = ["Handler", "StationContext", "id_tag_info"]


class StationContext(Protocol):
    """What a handler may use: provided by the station's actor."""

    charge_box_id: str
    state: StationState
    store: BatchingStore  # reads, and writes batched across stations
    meter_writer: WriteBatcher[MeterIn, MeterResult]
    config: GatewayConfig
    unique_id: str  # of the CALL being handled
    raw: str  # the CALL as received (kept for transaction messages)
    config_imported: bool

    def publish(self, kind: str, data: dict[str, Any]) -> None: ...

    def import_configuration_soon(self) -> None: ...

    def start_soon(self, task: Callable[[], Awaitable[None]]) -> None:
        """Run ``task`` beside the connection (ends with it); it must not raise."""

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL to the station; its CALLRESULT payload (raises GatewayError)."""


Handler = Callable[[StationContext, dict[str, Any]], Awaitable[dict[str, Any]]]


def id_tag_info(auth: TagAuthorization) -> dict[str, Any]:
    info: dict[str, Any] = {"status": auth.status}
    if auth.expiry_date is not None:
        info["expiryDate"] = format_datetime(auth.expiry_date)
    if auth.parent_id_tag:
        info["parentIdTag"] = auth.parent_id_tag
    return info
