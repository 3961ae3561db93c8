"""The schedule chart and the readable period summaries."""

from __future__ import annotations

from portal.schedule.chart import Series, step_chart
from portal.schedule.views import day_ranges, summary


def test_day_ranges_are_compressed() -> None:
    assert day_ranges([0, 1, 2, 4]) == "Mon–Wed, Fri"
    assert day_ranges([6]) == "Sun"
    assert day_ranges(list(range(7))) == "Mon–Sun"


def test_summary_groups_weekdays_of_the_same_window() -> None:
    periods = [
        {"weekday": d, "start": "17:00", "end": "21:00", "limit": 3680.0, "available": True}
        for d in range(5)
    ] + [{"weekday": 6, "start": "00:00", "end": "24:00", "limit": None, "available": False}]
    assert summary({"periods": periods, "rate_unit": "W"}) == [
        "Mon–Fri 17:00–21:00 3680 W",
        "Sun 00:00–24:00 unavailable",
    ]


def test_chart_draws_one_step_line_per_series_and_escapes_labels() -> None:
    svg = str(
        step_chart(
            [
                Series("asked <cap>", "#00f", [(0, 11000.0), (3600, 3680.0)], dashed=True),
                Series("reported", "#f00", [(0, 3680.0)]),
            ],
            duration=7200,
            unit="W",
        )
    )
    assert svg.count("<polyline") == 2
    assert "asked &lt;cap&gt;" in svg
    assert 'stroke-dasharray="6 4"' in svg
    assert "+2h" in svg
