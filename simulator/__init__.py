"""Station simulator: OCPP 1.6-J charge points for tests, load runs and conformance checks."""

from simulator.errors import (
    CallErrorReceived,
    CallTimeoutError,
    ConnectionLostError,
    NotAcceptedError,
    SimulatorError,
    StationOfflineError,
)
from simulator.meter import Ev
from simulator.outlet import FAULTS, Fault, Status
from simulator.station import CallObserver, FaultSettings, SimulatedStation, StationSettings

__all__ = [
    "FAULTS",
    "CallErrorReceived",
    "CallObserver",
    "CallTimeoutError",
    "ConnectionLostError",
    "Ev",
    "Fault",
    "FaultSettings",
    "NotAcceptedError",
    "SimulatedStation",
    "SimulatorError",
    "StationOfflineError",
    "StationSettings",
    "Status",
]
