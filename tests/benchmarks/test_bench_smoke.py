"""The benchmark runs end to end with a few stations and writes a sane report (no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_benchmark_measures_both_sides_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--no-sessions",
            "--no-soap15",
            "--workdir",
            str(tmp_path / "work"),
            "--output",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])

    hold = {r["kind"]: r for r in results["hold"]}
    sustain = {r["kind"]: r for r in results["sustain"]}
    assert set(hold) == set(sustain) == {"gateway", "baseline"}
    for kind in ("gateway", "baseline"):
        h, s = hold[kind], sustain[kind]
        # every station booted, stayed connected and was answered
        assert h["booted"] == h["connected_at_window"] == h["connected_at_end"] == h["stations"]
        assert h["heartbeats"] > 0
        assert h["heartbeat_p99_ms"] is not None
        assert h["boot_storm_s"] is not None
        assert h["idle_rss_kib"] > 0
        assert not h["failures"]
        assert not h["call_errors"]
        # sustained load: MeterValues answered, all of them persisted, remote starts completed
        meter_calls = s["by_action"]["MeterValues"]["count"]
        assert meter_calls > 0
        assert s["messages_per_s"] > 0
        assert s["rows_after"]["meter_samples"] >= 2 * meter_calls  # two samples per message
        assert s["rows_after"]["sessions"] >= s["stations"]
        assert s["remote_start"]["ok"] == s["remote_start"]["sent"] > 0
        if kind == "gateway":  # where each command's time went, from the station's frames
            breakdown = s["remote_start"]["breakdown"]
            assert breakdown["commands"] == s["remote_start"]["ok"]
            assert breakdown["handling StatusNotification Charging"]["p50"] > 0
            # once it answered the command, the station sends its start's messages in a row
            assert breakdown["MeterValues in the chain"]["p50"] <= 1
        assert not s["failures"]
        assert not s["call_errors"]

    # the restart: the same stations reconnect to a restarted server, nothing to import
    restart = results["restart"]
    assert restart["first_boot"]["imported"] == restart["stations"], restart
    assert restart["restart"]["booted"] == restart["stations"], restart
    assert restart["restart"]["boot_storm_s"] is not None, restart
    assert restart["restart"]["config_imports"]["imported"] == 0, restart
    assert not restart["restart"]["failures"], restart

    text = report.read_text()
    assert text.startswith("# Benchmarks")
    assert "Restart (`benchmarks/boot_storm.py`)" in text
    assert "| gateway |" in text
    assert "| baseline |" in text
    assert "gateway vs baseline" in text
    assert results["machine"]["cores"] >= 1
