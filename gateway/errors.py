"""The gateway's exception hierarchy: what a caller of the command API can get back."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CallErrorReply",
    "CommandTimeoutError",
    "GatewayError",
    "PayloadValidationError",
    "StationBusyError",
    "StationOfflineError",
    "UnknownActionError",
    "UnknownStationError",
]


class GatewayError(Exception):
    """Base of every error the command API raises; ``http_status`` suggests a mapping."""

    http_status = 500


class StationOfflineError(GatewayError):
    """The station is known but not connected to this gateway."""

    http_status = 409


class UnknownStationError(GatewayError):
    """No station with this charge box id exists in the database."""

    http_status = 404


class StationBusyError(GatewayError):
    """The station's command queue is full; try again later."""

    http_status = 503


class CommandTimeoutError(GatewayError):
    """The command's deadline passed; ``sent`` says whether the station got the CALL."""

    http_status = 504

    def __init__(self, message: str, *, sent: bool = True, waited: float = 0.0) -> None:
        super().__init__(message)
        self.sent = sent
        self.waited = waited


class CallErrorReply(GatewayError):  # noqa: N818 - name fixed by the API contract
    """The station answered with a CALLERROR (or an invalid CALLRESULT)."""

    http_status = 502

    def __init__(self, code: str, description: str = "", details: dict[str, Any] | None = None):
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details or {}


class PayloadValidationError(GatewayError):
    """The payload of a command breaks the action's OCPP 1.6 request schema."""

    http_status = 400

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class UnknownActionError(GatewayError):
    """The action is not a central-system-initiated OCPP 1.6 operation."""

    http_status = 400
