"""The ``chargeportal-sim`` command line, run as a user would, against a local central system."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from simulator.cli import build_parser
from simulator.scenario import load_scenario

SIM = [sys.executable, "-m", "simulator"]


async def run_cli(*args: str) -> subprocess.CompletedProcess:
    return await trio.run_process(
        [*SIM, *args], capture_stdout=True, capture_stderr=True, check=False
    )


async def test_load_prints_percentiles_and_json(cs):
    with trio.fail_after(30):
        done = await run_cli(
            "load",
            "--url",
            cs.url,
            "--stations",
            "4",
            "--mode",
            "meter",
            "--duration",
            "1",
            "--json",
        )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    meter = summary["actions"]["MeterValues"]
    assert meter["ok"] > 10
    assert 0 < meter["p50_ms"] <= meter["p95_ms"] <= meter["p99_ms"]
    assert summary["connected"] == 4
    assert summary["boot"]["accepted"] == 4
    assert "MeterValues" in done.stderr.decode()  # the table goes to stderr with --json


async def test_load_split_over_two_processes_merges_the_figures(cs):
    with trio.fail_after(40):
        done = await run_cli(
            "load",
            "--url",
            cs.url,
            "--stations",
            "5",
            "--processes",
            "2",
            "--duration",
            "1",
            "--heartbeat",
            "0.2",
            "--json",
            "--quiet",
        )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["processes"] == 2
    assert summary["boot"]["accepted"] == 5
    assert len(summary["rss_kib_per_process"]) == 2
    assert summary["stations"] == 5
    assert summary["connected"] == 5
    assert summary["actions"]["Heartbeat"]["ok"] >= 10
    assert {cbid for cbid, _, _ in cs.received} == {f"LOAD{i:04d}" for i in range(1, 6)}


async def test_run_scenario_for_a_duration_charges_and_prints_a_summary(cs, tmp_path):
    scenario = tmp_path / "busy.toml"
    scenario.write_text(
        '[fleet]\nstations = 2\noutlets = 2\nid_prefix = "BUSY"\n'
        "[sessions]\narrival_per_hour = 7200\nminutes = 0.05\nrfid_share = 0.0\n"
        "[config]\nMeterValueSampleInterval = 1\n"
    )
    with trio.fail_after(30):
        done = await run_cli("run", "--url", cs.url, "--scenario", str(scenario), "--duration", "4")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert summary["stations"] == 2
    assert summary["sessions"] >= 2
    assert "connected 2/2" in done.stderr.decode()
    assert len(cs.payloads("StartTransaction")) >= 2


async def test_conformance_exits_non_zero_when_a_check_fails(cs):
    # The minimal central system accepts any station id: "unknown-station-refused" fails.
    with trio.fail_after(60):
        done = await run_cli("conformance", "--url", cs.url, "--id", "CONF1", "--timeout", "1.5")
    out = done.stdout.decode()
    assert done.returncode == 1
    assert "boot" in out
    assert "PASS" in out
    assert "unknown-station-refused" in out
    assert "FAIL" in out
    assert {action for action, _ in cs.invalid} >= {"FooBarAction", "BootNotification"}
    cs.invalid.clear()  # the conformance run sent those bad frames on purpose


async def test_bad_scenario_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[fleet]\noutlets = 9\n")
    done = await run_cli("run", "--url", "ws://127.0.0.1:9/x", "--scenario", str(bad))
    assert done.returncode == 2
    assert "fleet.outlets" in done.stderr.decode()


def test_the_demo_scenario_names_the_demo_station():
    scenario = load_scenario(Path(__file__).parents[2] / "simulator" / "scenarios" / "demo.toml")
    assert scenario.station_ids() == ["CP-SOLNA-4"]
    assert scenario.outlets == 4


def test_the_shipped_example_scenario_parses():
    scenario = load_scenario(Path(__file__).parents[2] / "simulator" / "scenarios" / "city.toml")
    assert scenario.stations == 20
    assert scenario.outlets == 4
    assert [f.kind for f in scenario.faults] == ["fuse", "offline"]


def test_outlets_outside_one_to_four_are_refused():
    parser = build_parser()
    args = parser.parse_args(["run", "--outlets", "4"])
    assert args.outlets == 4
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["run", "--outlets", "5"])
    assert info.value.code == 2


async def test_run_with_explicit_ids_connects_exactly_those_stations(cs):
    with trio.fail_after(30):
        done = await run_cli(
            "run",
            "--url",
            cs.url,
            "--ids",
            "CP-SOLNA-1,CP-SOLNA-4",
            "--outlets",
            "1",
            "--duration",
            "1.5",
        )
    assert done.returncode == 0, done.stderr
    assert {cbid for cbid, _, _ in cs.received} == {"CP-SOLNA-1", "CP-SOLNA-4"}
