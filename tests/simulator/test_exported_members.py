"""The simulator's public surface, and that it stays a client of any central system."""

from __future__ import annotations

import ast
from pathlib import Path

import simulator


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
    root = Path(simulator.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"gateway", "portal", "db"}, (path, name)
