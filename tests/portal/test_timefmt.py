"""portal.timefmt: SPEC §6 formatting and parsing of typed times across the 2026
Stockholm DST changes (explicit zone; outside a request the display zone is UTC)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.timefmt import display_zone, format_time, input_value, parse_local

STOCKHOLM = "Europe/Stockholm"


def test_spec_format_with_tenths_in_the_zone_across_the_spring_change() -> None:
    before = dt.datetime(2026, 3, 29, 0, 59, 59, 950_000)  # 01:59:59.9 CET
    after = dt.datetime(2026, 3, 29, 1, 0, 0)  # 03:00:00.0 CEST
    assert format_time(before, zone=STOCKHOLM) == "2026-03-29 01:59:59.9"
    assert format_time(after, zone=STOCKHOLM) == "2026-03-29 03:00:00.0"
    assert format_time(after, "minutes", zone=STOCKHOLM) == "2026-03-29 03:00"
    assert format_time(None) == ""
    assert display_zone() == "UTC"
    assert format_time(after) == "2026-03-29 01:00:00.0"


def test_the_repeated_autumn_hour_formats_twice_and_parses_to_the_first() -> None:
    first, second = dt.datetime(2026, 10, 25, 0, 30), dt.datetime(2026, 10, 25, 1, 30)
    assert format_time(first, "seconds", STOCKHOLM) == "2026-10-25 02:30:00"
    assert format_time(second, "seconds", STOCKHOLM) == "2026-10-25 02:30:00"
    assert parse_local("2026-10-25T02:30", STOCKHOLM) == first
    # an offset says which one
    assert parse_local("2026-10-25T02:30+01:00", STOCKHOLM) == second
    assert parse_local("2026-10-25 01:30Z", STOCKHOLM) == second


def test_typed_times_become_utc_and_inputs_show_local_values() -> None:
    assert parse_local("2026-03-29T03:30", STOCKHOLM) == dt.datetime(2026, 3, 29, 1, 30)
    assert parse_local("2026-03-28 23:00:00", STOCKHOLM) == dt.datetime(2026, 3, 28, 22, 0)
    assert input_value(dt.datetime(2026, 3, 29, 1, 30), STOCKHOLM) == "2026-03-29T03:30:00"
    assert input_value("2030-06-01T10:00:00Z", STOCKHOLM) == "2030-06-01T12:00:00"
    with pytest.raises(ValueError, match="isoformat"):
        parse_local("yesterday", STOCKHOLM)
