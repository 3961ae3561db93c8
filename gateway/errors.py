"""The gateway's exception hierarchy: what a caller of the command API can get back."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CallErrorReply",
    "CommandTimeoutError",
    "GatewayError",
    "PayloadValidationError",
    "StationBusyError",
    "StationMovedError",
    "StationOfflineError",
    "UnknownActionError",
    "UnknownStationError",
    "UnsupportedProtocolError",
]


class GatewayError(Exception):
    """Base of every error the command API raises (the portal decides what it means in
    HTTP: ``portal.errors``; the gateway knows no HTTP)."""


class StationOfflineError(GatewayError):
    """The station is known but not connected to this gateway."""


class StationMovedError(StationOfflineError):
    """The station left the node a command was routed to before it was sent (scale-out:
    the sender routes it again while its deadline allows)."""


class UnknownStationError(GatewayError):
    """No station with this charge box id exists in the database."""


class StationBusyError(GatewayError):
    """The station's command queue is full; try again later."""


class CommandTimeoutError(GatewayError):
    """The command's deadline passed; ``sent`` says whether the station got the CALL."""

    def __init__(self, message: str, *, sent: bool = True, waited: float = 0.0) -> None:
        super().__init__(message)
        self.sent = sent
        self.waited = waited


class CallErrorReply(GatewayError):  # noqa: N818 - name fixed by the API contract
    """The station answered with a CALLERROR (or an invalid CALLRESULT)."""

    def __init__(self, code: str, description: str = "", details: dict[str, Any] | None = None):
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details or {}


class PayloadValidationError(GatewayError):
    """The payload of a command breaks the action's OCPP 1.6 request schema."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class UnsupportedProtocolError(GatewayError):
    """The command has no payload for the station's protocol version yet."""


class UnknownActionError(GatewayError):
    """The action is not a central-system-initiated OCPP 1.6 operation."""
