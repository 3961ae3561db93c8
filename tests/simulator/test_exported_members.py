"""The simulator's public surface, and that it stays a client of any central system."""

from __future__ import annotations

from pathlib import Path

import simulator
from tests.imports import imported_packages


def test_public_names_are_pinned():
    assert sorted(simulator.__all__) == sorted(
        [
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
    )
    for name in simulator.__all__:
        assert hasattr(simulator, name)


def test_simulator_never_imports_the_central_system():
    for path, package in imported_packages(Path(simulator.__file__).parent):
        assert package not in {"gateway", "portal", "db"}, (path, package)
