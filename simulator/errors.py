"""The simulator's exceptions, one hierarchy."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CallErrorReceived",
    "CallTimeoutError",
    "ConnectionLostError",
    "NotAcceptedError",
    "SimulatorError",
    "StationOfflineError",
]


class SimulatorError(Exception):
    """Base of every error the simulator raises."""


class StationOfflineError(SimulatorError):
    """The station is not connected (or not yet accepted) to a central system."""


class ConnectionLostError(StationOfflineError):
    """The connection closed while a CALL waited for its answer."""


class CallTimeoutError(SimulatorError):
    """No answer to a CALL within its timeout."""


class NotAcceptedError(SimulatorError):
    """The central system did not accept the BootNotification."""


class CallErrorReceived(SimulatorError):  # noqa: N818 - it is a received frame, named so
    """The central system answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str = "", details: Any = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}
