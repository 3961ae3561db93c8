"""The OCPP 1.5 SOAP benchmark runs both protocols end to end and writes its section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.soap15_bench import HEADING, write_section

ROOT = Path(__file__).resolve().parents[2]


def test_its_section_replaces_the_last_one_and_keeps_the_others(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n## Targets\n\nt\n\n## Analysis\n\nwhy\n")
    write_section(report, f"{HEADING}\n\nfirst\n")
    write_section(report, f"{HEADING}\n\nsecond\n")
    text = report.read_text()
    assert text.count(HEADING) == 1
    assert "second" in text
    assert "first" not in text
    assert text.index("## Targets") < text.index(HEADING) < text.index("## Analysis")


@pytest.mark.slow
def test_a_small_run_boots_every_station_of_both_protocols(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    work = tmp_path / "work"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.soap15_bench", "--stations", "4"),
            *("--seconds", "1", "--ramp", "0.2", "--heartbeat", "0.5"),
            *("--workdir", str(work), "--output", str(report)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((work / "results.json").read_text())
    rows = {r["protocol"]: r for r in results["rows"]}
    assert set(rows) == {"ocpp1.6", "ocpp1.5"}
    for row in rows.values():
        assert row["accepted"] == [4, 4]
        assert row["heartbeats"] > 0
        assert row["persisted_per_s"] > 0
        assert row["failed"] == 0
    text = report.read_text()
    assert "| ocpp1.5 | 4 / 4 of 4 |" in text
    assert "| ocpp1.6 | 4 / 4 of 4 |" in text
