"""Time zones: names checked, UTC <-> local across DST, UTC slots folded into local buckets,
the migration that adds the zone columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from db.engine.connection import open_database
from db.schema.migrate import migrate
from db.schema.models import Site
from db.system.timezones import (
    check_zone,
    fold_slots,
    local_day_start,
    local_to_utc,
    server_zone_name,
    slot_seconds,
    utc_to_local,
)

STOCKHOLM = "Europe/Stockholm"


def test_zone_names_are_iana_names_and_utc_aliases_become_utc() -> None:
    assert check_zone(" Europe/Stockholm ") == STOCKHOLM
    assert check_zone("Etc/UTC") == "UTC"
    for bad in ("Mars/Olympus", "CET+1", "../etc/passwd", ""):
        with pytest.raises(ValueError, match="time zone"):
            check_zone(bad)


def test_stockholm_springs_forward_on_2026_03_29() -> None:
    # 00:30 UTC = 01:30 CET; 01:30 UTC = 03:30 CEST (02:xx does not exist locally)
    assert utc_to_local(dt.datetime(2026, 3, 29, 0, 30), STOCKHOLM) == dt.datetime(
        2026, 3, 29, 1, 30
    )
    assert utc_to_local(dt.datetime(2026, 3, 29, 1, 30), STOCKHOLM) == dt.datetime(
        2026, 3, 29, 3, 30
    )
    assert local_to_utc(dt.datetime(2026, 3, 29, 3, 30), STOCKHOLM) == dt.datetime(
        2026, 3, 29, 1, 30
    )
    # the skipped 02:30 is read with the winter offset
    assert local_to_utc(dt.datetime(2026, 3, 29, 2, 30), STOCKHOLM) == dt.datetime(
        2026, 3, 29, 1, 30
    )
    # that local day is 23 hours long
    day = local_day_start(dt.date(2026, 3, 29), STOCKHOLM)
    next_day = local_day_start(dt.date(2026, 3, 30), STOCKHOLM)
    assert (day, next_day - day) == (dt.datetime(2026, 3, 28, 23), dt.timedelta(hours=23))


def test_stockholm_falls_back_on_2026_10_25() -> None:
    # 02:30 local happens twice: 00:30 UTC (CEST) and 01:30 UTC (CET)
    assert utc_to_local(dt.datetime(2026, 10, 25, 0, 30), STOCKHOLM) == dt.datetime(
        2026, 10, 25, 2, 30
    )
    assert utc_to_local(dt.datetime(2026, 10, 25, 1, 30), STOCKHOLM) == dt.datetime(
        2026, 10, 25, 2, 30
    )
    assert local_to_utc(dt.datetime(2026, 10, 25, 2, 30), STOCKHOLM) == dt.datetime(
        2026, 10, 25, 0, 30
    )
    # aware input keeps its own offset
    aware = dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert local_to_utc(aware, STOCKHOLM) == dt.datetime(2026, 10, 25, 1, 30)
    day = local_day_start(dt.date(2026, 10, 25), STOCKHOLM)
    assert local_day_start(dt.date(2026, 10, 26), STOCKHOLM) - day == dt.timedelta(hours=25)


def _slot(moment: dt.datetime, seconds: int = 3600) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp()) // seconds


def test_utc_hours_fold_into_local_days_weeks_hours_and_weekdays() -> None:
    rows = [
        (_slot(dt.datetime(2026, 10, 24, 21)), 1000, 1),  # 23:00 CEST, Saturday 24th
        (_slot(dt.datetime(2026, 10, 24, 22)), 2000, 1),  # 00:00 CEST, Sunday 25th
        (_slot(dt.datetime(2026, 10, 25, 22, 59)), 4000, 2),  # 23:00 CET, still the 25th
        (_slot(dt.datetime(2026, 10, 25, 23)), 8000, 1),  # 00:00 CET, Monday 26th
    ]
    assert fold_slots(rows, STOCKHOLM, "day", 3600, combine=("sum", "sum")) == {
        "2026-10-24": [1000, 1],
        "2026-10-25": [6000, 3],
        "2026-10-26": [8000, 1],
    }
    weeks = fold_slots(rows, STOCKHOLM, "week", 3600, combine=("sum", "sum"))
    assert weeks == {"2026-10-19": [7000, 4], "2026-10-26": [8000, 1]}
    hours = fold_slots(rows, STOCKHOLM, "hour", 3600, combine=("sum", "sum"))
    assert hours == {23: [5000, 3], 0: [10000, 2]}
    weekdays = fold_slots(rows, STOCKHOLM, "weekday", 3600, combine=("max", "sum"))
    assert weekdays == {6: [1000, 1], 7: [4000, 3], 1: [8000, 1]}


def test_half_hour_zones_fold_by_quarter_hours() -> None:
    start, end = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)
    assert slot_seconds("Asia/Kolkata", start, end) == 900
    assert slot_seconds(STOCKHOLM, start, end) == 3600
    # 18:15 UTC = 23:45 IST, 18:30 UTC = 00:00 IST next day
    rows = [
        (_slot(dt.datetime(2026, 1, 5, 18, 15), 900), 1),
        (_slot(dt.datetime(2026, 1, 5, 18, 30), 900), 1),
    ]
    assert fold_slots(rows, "Asia/Kolkata", "day", 900) == {"2026-01-05": [1], "2026-01-06": [1]}


def test_migration_adds_and_removes_the_zone_columns(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/m.sqlite3")

    def columns() -> set[tuple[str, str]]:
        return {
            (table, c.name)
            for table in ("site", "user")
            for c in database.get_columns(table)
            if c.name == "time_zone"
        }

    migrate(database)
    assert columns() == {("site", "time_zone"), ("user", "time_zone")}
    assert migrate(database, 3)[-1] == 4  # newer migrations go down first
    assert columns() == set()
    assert migrate(database, 4) == [4]
    assert columns() == {("site", "time_zone"), ("user", "time_zone")}
    migrate(database)
    with database.bind_ctx([Site]):
        site = Site.create(name="Solna", time_zone=STOCKHOLM)
        assert Site.get_by_id(site.id).time_zone == STOCKHOLM
    database.close()


def test_the_default_system_zone_is_configured_or_the_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHARGEPORTAL_TIME_ZONE", "Europe/Stockholm")
    assert server_zone_name() == STOCKHOLM
    monkeypatch.setenv("CHARGEPORTAL_TIME_ZONE", "")
    monkeypatch.setenv("TZ", ":America/New_York")
    assert server_zone_name() == "America/New_York"
    monkeypatch.setenv("TZ", "not a zone")
    assert server_zone_name()  # the server's /etc zone, else UTC: never an invalid name
