"""Weekly schedules become OCPP 1.6 Recurring/Weekly charging profiles."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import fastjsonschema
import ocpp

from db.system.schedules import normalise_periods
from gateway.commands.profiles import (
    asked_steps,
    build_profile,
    clocks_changed_since,
    composite_steps,
    limit_at,
    week_start,
    weekly_periods,
)

SCHEMA = json.loads(
    (pathlib.Path(ocpp.__file__).parent / "v16/schemas/SetChargingProfile.json").read_text(
        "utf-8-sig"
    )
)
validate = fastjsonschema.compile(SCHEMA)

EVENING = normalise_periods(
    [
        {"days": [0, 1, 2, 3, 4], "start": "17:00", "end": "21:00", "limit": 3680},
        {"weekday": 6, "start": "00:00", "end": "24:00", "available": False},
    ]
)


def test_week_start_is_monday_midnight() -> None:
    assert week_start(dt.datetime(2026, 12, 3, 15, 30)) == dt.datetime(2026, 11, 30)


def test_periods_become_steps_from_monday_with_gaps_unlimited() -> None:
    steps = weekly_periods(EVENING, rate_unit="W", default_limit=22000)
    assert steps[:3] == [
        {"startPeriod": 0, "limit": 22000},
        {"startPeriod": 17 * 3600, "limit": 3680},
        {"startPeriod": 21 * 3600, "limit": 22000},
    ]
    assert steps[-1] == {"startPeriod": 6 * 86400, "limit": 0}
    assert len(steps) == 1 + 2 * 5 + 1


def test_back_to_back_periods_do_not_fall_back_to_unlimited() -> None:
    periods = normalise_periods(
        [
            {"weekday": 0, "start": "08:00", "end": "12:00", "limit": 7000},
            {"weekday": 0, "start": "12:00", "end": "13:00", "limit": 7000},
            {"weekday": 0, "start": "13:00", "end": "14:00", "limit": 5000},
        ]
    )
    assert weekly_periods(periods, default_limit=11000) == [
        {"startPeriod": 0, "limit": 11000},
        {"startPeriod": 8 * 3600, "limit": 7000},
        {"startPeriod": 13 * 3600, "limit": 5000},
        {"startPeriod": 14 * 3600, "limit": 11000},
    ]


def test_profile_is_valid_ocpp_16_and_recurring_weekly() -> None:
    payload = build_profile(
        schedule_id=7,
        periods=EVENING,
        purpose="ChargePointMaxProfile",
        rate_unit="A",
        now=dt.datetime(2026, 12, 2, 9, 0),
    )
    validate(payload)
    inner = payload["csChargingProfiles"]
    assert inner["chargingProfileId"] == 1007
    assert (inner["chargingProfileKind"], inner["recurrencyKind"]) == ("Recurring", "Weekly")
    assert inner["chargingSchedule"]["startSchedule"] == "2026-11-30T00:00:00Z"
    assert inner["chargingSchedule"]["duration"] == 7 * 86400
    assert inner["chargingSchedule"]["chargingSchedulePeriod"][0] == {
        "startPeriod": 0,
        "limit": 1000,
    }


def test_limit_at_and_asked_steps_follow_the_week() -> None:
    steps = weekly_periods(EVENING, default_limit=22000)
    assert limit_at(steps, 18 * 3600) == 3680
    assert limit_at(steps, 6 * 86400 + 10) == 0
    monday_noon = dt.datetime(2026, 11, 30, 12, 0)
    assert asked_steps(steps, start=monday_noon, duration=12 * 3600) == [
        (0, 22000.0),
        (5 * 3600, 3680.0),
        (9 * 3600, 22000.0),
    ]
    sunday_night = dt.datetime(2026, 12, 6, 23, 0)
    assert asked_steps(steps, start=sunday_night, duration=7200) == [(0, 0.0), (3600, 22000.0)]


def test_composite_answer_becomes_steps() -> None:
    answer = {
        "status": "Accepted",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3680.0}],
        },
    }
    assert composite_steps(answer) == [(0, 3680.0)]
    assert composite_steps({"status": "Rejected"}) == []


STOCKHOLM = "Europe/Stockholm"


def test_week_start_in_a_zone_is_local_monday_midnight_in_utc() -> None:
    # winter (CET, UTC+1): Monday 30 November 00:00 local is Sunday 23:00 UTC
    assert week_start(dt.datetime(2026, 12, 3, 15, 30), STOCKHOLM) == dt.datetime(2026, 11, 29, 23)
    # 23:30 UTC on Sunday is already Monday in Stockholm: that Monday's week
    assert week_start(dt.datetime(2026, 11, 29, 23, 30), STOCKHOLM) == dt.datetime(2026, 11, 29, 23)
    # summer (CEST, UTC+2)
    assert week_start(dt.datetime(2026, 6, 10, 12), STOCKHOLM) == dt.datetime(2026, 6, 7, 22)


def test_a_profile_in_a_zone_starts_at_local_monday_and_keeps_wall_clock_offsets() -> None:
    payload = build_profile(
        schedule_id=1, periods=EVENING, now=dt.datetime(2026, 12, 3, 15, 30), zone=STOCKHOLM
    )
    validate(payload)
    schedule = payload["csChargingProfiles"]["chargingSchedule"]
    assert schedule["startSchedule"] == "2026-11-29T23:00:00Z"
    periods = schedule["chargingSchedulePeriod"]
    # "17:00" on Monday: 17 hours after local midnight = 16:00 UTC = 17:00 CET
    assert periods[1] == {"startPeriod": 17 * 3600, "limit": 3680}
    start = dt.datetime.fromisoformat(schedule["startSchedule"].replace("Z", ""))
    assert start + dt.timedelta(seconds=periods[1]["startPeriod"]) == dt.datetime(2026, 11, 30, 16)
    summer = build_profile(
        schedule_id=1, periods=EVENING, now=dt.datetime(2026, 6, 10), zone=STOCKHOLM
    )
    assert summer["csChargingProfiles"]["chargingSchedule"]["startSchedule"] == (
        "2026-06-07T22:00:00Z"
    )


def test_asked_steps_in_a_zone_line_up_with_the_station_clock() -> None:
    week = weekly_periods(EVENING, default_limit=22000)
    # the station reports from 15:00 UTC on Monday 30 November (16:00 CET): the 17:00
    # CET limit starts an hour later
    steps = asked_steps(
        week, start=dt.datetime(2026, 11, 30, 15), duration=4 * 3600, zone=STOCKHOLM
    )
    assert steps == [(0, 22000.0), (3600, 3680.0)]


def test_a_profile_pushed_before_the_clocks_changed_needs_pushing_again() -> None:
    pushed = dt.datetime(2026, 3, 25, 12)  # CET
    assert not clocks_changed_since(pushed, dt.datetime(2026, 3, 28, 12), STOCKHOLM)
    assert clocks_changed_since(pushed, dt.datetime(2026, 3, 30, 12), STOCKHOLM)  # CEST
    assert not clocks_changed_since(
        dt.datetime(2026, 3, 29, 12), dt.datetime(2026, 6, 1), STOCKHOLM
    )
    assert not clocks_changed_since(pushed, dt.datetime(2026, 6, 1), None)  # UTC never changes
    assert not clocks_changed_since(None, dt.datetime(2026, 6, 1), STOCKHOLM)


def test_pushed_in_the_week_of_the_change_it_follows_the_new_offset() -> None:
    # Sunday 29 March 14:00 CEST, after the change: Monday 23 March 00:00 read at +02:00,
    # so that 17:00 on Monday 30 March (and every later week) is 17:00 CEST
    now = dt.datetime(2026, 3, 29, 12)
    anchor = week_start(now, STOCKHOLM)
    assert anchor == dt.datetime(2026, 3, 22, 22)
    payload = build_profile(schedule_id=1, periods=EVENING, now=now, zone=STOCKHOLM)
    schedule = payload["csChargingProfiles"]["chargingSchedule"]
    assert schedule["startSchedule"] == "2026-03-22T22:00:00Z"
    next_monday_17 = anchor + dt.timedelta(seconds=7 * 86400 + 17 * 3600)
    assert next_monday_17 == dt.datetime(2026, 3, 30, 15)  # 17:00 CEST
