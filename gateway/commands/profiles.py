"""Weekly schedules → OCPP 1.6 charging profiles (SetChargingProfile), and profiles → step
series for the chart.

Pure functions on plain values: a schedule's periods (``db.system.schedules``, wall-clock
times of the site's zone) become one Recurring/Weekly profile whose ``startSchedule`` is
the absolute time of Monday 00:00 in that zone (in UTC on the wire); gaps between periods
get ``default_limit`` (no limit in practice); an unavailable window gets 0.

A recurring profile repeats every 604,800 seconds, not every local week: once the clocks
change (daylight saving time), its periods fall an hour off the wall clock until the
schedule is pushed again, which anchors it with the new offset (``week_start``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from db.system.timezones import utc_to_local

WEEK_SECONDS = 7 * 24 * 3600
#: The limit outside every period ("no limit"): far above any AC/DC station.
NO_LIMIT = {"W": 1_000_000.0, "A": 1000.0}
PROFILE_ID_BASE = 1000


def _minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def profile_id_for(schedule_id: int) -> int:
    """Stable per schedule, so that pushing again replaces the station's copy."""
    return PROFILE_ID_BASE + schedule_id


def week_start(moment: dt.datetime, zone: str | None = None) -> dt.datetime:
    """Monday 00:00 (on the wall clock of ``zone``, None: UTC) of the week holding
    ``moment`` (naive UTC), as naive UTC — read with the UTC offset in force at ``moment``.

    A profile anchored there follows the wall clock from ``moment`` until the next
    change of the clocks, even when pushed in the week of a change (the Monday itself
    had the old offset; using it would put every later week an hour off).
    """
    local = utc_to_local(moment, zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return day - dt.timedelta(days=day.weekday()) - (local - moment)


def clocks_changed_since(pushed_at: dt.datetime | None, now: dt.datetime, zone: str | None) -> bool:
    """Whether ``zone``'s UTC offset now differs from the one a profile pushed at
    ``pushed_at`` was anchored with: its periods then sit an hour off the wall clock
    until it is pushed again."""
    if pushed_at is None or not zone:
        return False
    return bool(utc_to_local(pushed_at, zone) - pushed_at != utc_to_local(now, zone) - now)


def _wire_limit(value: float) -> float | int:
    """Whole numbers as ints (``multipleOf 0.1`` holds exactly), else one decimal."""
    rounded = round(float(value), 1)
    return int(rounded) if rounded == int(rounded) else rounded


def weekly_periods(
    periods: list[dict[str, Any]], *, rate_unit: str = "W", default_limit: float | None = None
) -> list[dict[str, Any]]:
    """``chargingSchedulePeriod`` entries over one week (startPeriod in seconds from Monday).

    Adjacent entries with the same limit are merged; the first starts at 0.
    """
    fallback = NO_LIMIT[rate_unit] if default_limit is None else default_limit
    edges: list[tuple[int, float]] = []
    for period in sorted(periods, key=lambda p: (p["weekday"], _minutes(p["start"]))):
        base = int(period["weekday"]) * 86400
        start = base + _minutes(period["start"]) * 60
        end = base + _minutes(period["end"]) * 60
        limit = 0.0 if not period.get("available", True) else float(period["limit"])
        edges.append((start, limit))
        edges.append((end, -1.0))  # back to the fallback unless the next period starts here
    steps: dict[int, float] = {0: fallback}
    for second, limit in edges:
        if second >= WEEK_SECONDS:
            continue
        if limit >= 0:
            steps[second] = limit
        elif second not in steps or steps[second] < 0:
            steps[second] = fallback
    out: list[dict[str, Any]] = []
    for second in sorted(steps):
        value = _wire_limit(steps[second])
        if out and out[-1]["limit"] == value:
            continue
        out.append({"startPeriod": second, "limit": value})
    return out


def build_profile(
    *,
    schedule_id: int,
    periods: list[dict[str, Any]],
    purpose: str = "TxDefaultProfile",
    stack_level: int = 0,
    rate_unit: str = "W",
    connector_id: int = 0,
    now: dt.datetime,
    default_limit: float | None = None,
    zone: str | None = None,
) -> dict[str, Any]:
    """The SetChargingProfile payload (camelCase, as on the wire) for one schedule whose
    periods are wall-clock times of ``zone`` (None: UTC)."""
    start = week_start(now, zone)
    return {
        "connectorId": connector_id,
        "csChargingProfiles": {
            "chargingProfileId": profile_id_for(schedule_id),
            "stackLevel": stack_level,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Weekly",
            "chargingSchedule": {
                "duration": WEEK_SECONDS,
                "startSchedule": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "chargingRateUnit": rate_unit,
                "chargingSchedulePeriod": weekly_periods(
                    periods, rate_unit=rate_unit, default_limit=default_limit
                ),
            },
        },
    }


def limit_at(week_periods: list[dict[str, Any]], second_of_week: int) -> float:
    """The limit a weekly period list gives at ``second_of_week``."""
    current = float(week_periods[0]["limit"])
    for entry in week_periods:
        if entry["startPeriod"] > second_of_week % WEEK_SECONDS:
            break
        current = float(entry["limit"])
    return current


def asked_steps(
    week_periods: list[dict[str, Any]],
    *,
    start: dt.datetime,
    duration: int,
    zone: str | None = None,
) -> list[tuple[int, float]]:
    """(seconds from ``start``, limit) steps of the asked schedule over ``duration``, the
    week anchored at Monday 00:00 of ``zone`` as a pushed profile is."""
    offset = int((start - week_start(start, zone)).total_seconds())
    steps = [(0, limit_at(week_periods, offset))]
    for week in (0, WEEK_SECONDS):
        for entry in week_periods:
            at = entry["startPeriod"] + week - offset
            if 0 < at < duration and steps[-1][1] != float(entry["limit"]):
                steps.append((at, float(entry["limit"])))
    return steps


def composite_steps(answer: dict[str, Any]) -> list[tuple[int, float]]:
    """(seconds from scheduleStart, limit) of a GetCompositeSchedule answer."""
    schedule = answer.get("chargingSchedule") or {}
    return [
        (int(p["startPeriod"]), float(p["limit"]))
        for p in schedule.get("chargingSchedulePeriod", [])
    ]
