"""OCPP 1.6-J central system: station actors, command API, live events."""

from gateway.api import GatewayAPI
from gateway.central import Gateway
from gateway.commands import COMMAND_ACTIONS
from gateway.config import GatewayConfig
from gateway.errors import (
    CallErrorReply,
    CommandTimeoutError,
    GatewayError,
    PayloadValidationError,
    StationBusyError,
    StationOfflineError,
    UnknownActionError,
    UnknownStationError,
)
from gateway.events import EVENT_KINDS, EventBus, LiveEvent
from gateway.ocpp16.actions import CENTRAL_SYSTEM_INITIATED

__all__ = [
    "CENTRAL_SYSTEM_INITIATED",
    "COMMAND_ACTIONS",
    "EVENT_KINDS",
    "CallErrorReply",
    "CommandTimeoutError",
    "EventBus",
    "Gateway",
    "GatewayAPI",
    "GatewayConfig",
    "GatewayError",
    "LiveEvent",
    "PayloadValidationError",
    "StationBusyError",
    "StationOfflineError",
    "UnknownActionError",
    "UnknownStationError",
]


def _implements(gateway: Gateway) -> GatewayAPI:
    """The in-process Gateway is a GatewayAPI (checked by mypy, here and nowhere else)."""
    return gateway
