"""A full benchmark run rewrites BENCHMARKS.md but keeps the other scripts' sections."""

from __future__ import annotations

from benchmarks.report import carry_over

OLD = """# Benchmarks

## Targets

| old target row |

## Sessions table (`benchmarks/sessions_bench.py`)

old sessions figures

## Poisoned stations (`benchmarks/poison_bench.py`)

honest 3,252 msgs/CPU-s

## RFID badges tab (`benchmarks/badges_bench.py`)

first page 24 ms

## Station message log (`BENCH_FRAME_LOG=off python -m benchmarks`)

the log costs about 14 %

## Analysis

old analysis

Raw figures: old.
"""

NEW = """# Benchmarks

## Targets

| new target row |

## Sessions table (`benchmarks/sessions_bench.py`)

new sessions figures

## Analysis

new analysis

Raw figures: new.
"""


def test_sections_of_other_scripts_survive_a_full_run() -> None:
    merged = carry_over(OLD, NEW)
    assert "honest 3,252 msgs/CPU-s" in merged
    assert "first page 24 ms" in merged
    assert "the log costs about 14 %" in merged  # an A/B of this script, by hand
    # they come before the analysis, in their old order
    assert merged.index("## Poisoned stations") < merged.index("## RFID badges tab")
    assert merged.index("## RFID badges tab") < merged.index("## Analysis")


def test_sections_the_run_measured_again_are_the_new_ones() -> None:
    merged = carry_over(OLD, NEW)
    assert "new sessions figures" in merged
    assert "old sessions figures" not in merged
    assert "old analysis" not in merged
    assert "| old target row |" not in merged
    assert merged.count("## Sessions table") == 1


def test_a_first_report_is_written_as_rendered() -> None:
    assert carry_over("", NEW) == NEW
