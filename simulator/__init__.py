"""Station simulator: OCPP 1.6-J (and OCPP 1.5 SOAP) charge points for tests, load runs and
conformance checks."""

from simulator.conformance import CheckResult, ConformanceOptions, run_conformance
from simulator.errors import (
    CallErrorReceived,
    CallTimeoutError,
    ConnectionLostError,
    NotAcceptedError,
    SimulatorError,
    StationOfflineError,
)
from simulator.fleet import Fleet
from simulator.load import LoadOptions, run_load
from simulator.meter import Ev
from simulator.outlet import FAULTS, Fault, Status
from simulator.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from simulator.soap.station import SoapStation
from simulator.station import CallObserver, FaultSettings, SimulatedStation, StationSettings

__all__ = [
    "FAULTS",
    "CallErrorReceived",
    "CallObserver",
    "CallTimeoutError",
    "CheckResult",
    "ConformanceOptions",
    "ConnectionLostError",
    "Ev",
    "Fault",
    "FaultSettings",
    "Fleet",
    "LoadOptions",
    "NotAcceptedError",
    "Scenario",
    "ScenarioError",
    "SimulatedStation",
    "SimulatorError",
    "SoapStation",
    "StationOfflineError",
    "StationSettings",
    "Status",
    "load_scenario",
    "parse_scenario",
    "run_conformance",
    "run_load",
]
