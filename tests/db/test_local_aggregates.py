"""Diagram aggregates in a local zone: buckets are Stockholm days and hours, exact across
the DST changes of 2026-03-29 and 2026-10-25, still aggregated in the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from db import Store
from db.schema.models import ChargingSession, Outlet
from db.sessions.dashboard_queries import today_vs_last_week
from db.sessions.session_aggregates import (
    by_hour,
    by_weekday,
    energy_per,
    occupancy,
    sessions_per_day,
)
from db.system.timezones import local_day_start, utc_to_local
from db.topology.scope import Node, Viewer
from tests.db.session_dataset import SESSIONS, Dataset, build_dataset, t

ADMIN = Viewer(role="admin")
STOCKHOLM = "Europe/Stockholm"

#: UTC start, Wh; each lasts 20 minutes on CP-B1/1
DST_SESSIONS = [
    ("2026-03-22 10:30:00", 700),  # 11:30 CET, a week before the change
    ("2026-03-28 23:30:00", 5_000),  # 00:30 CET on Sunday 29 March
    ("2026-03-29 21:30:00", 3_000),  # 23:30 CEST, still the 29th
    ("2026-03-29 22:00:00", 1_000),  # 00:00 CEST on the 30th
    ("2026-10-25 00:30:00", 2_000),  # 02:30 CEST, the first 02:30 of 25 October
    ("2026-10-25 01:30:00", 4_000),  # 02:30 CET, the second one
    ("2026-10-25 22:30:00", 1_000),  # 23:30 CET, still the 25th
    ("2026-10-25 23:00:00", 500),  # 00:00 CET on the 26th
]


def _add_dst_sessions(data: Dataset) -> None:
    outlet = Outlet.get_by_id(data.outlets["CP-B1/1"])
    for start, wh in DST_SESSIONS:
        begin = t(start)
        ChargingSession.create(
            station=data.stations["CP-B1"],
            charge_box_id="CP-B1",
            station_name="Kista Plaza",
            site=data.sites["Kista"],
            site_name="Kista",
            outlet=outlet,
            connector_id=1,
            start_time=begin,
            end_time=begin + dt.timedelta(minutes=20),
            meter_start=0,
            meter_stop=wh,
            meter_last=wh,
            energy_wh=wh,
            server_date=begin,
        )


@pytest.fixture(name="data")
async def _data(store: Store) -> Dataset:
    data = await store.write(build_dataset)
    await store.write(_add_dst_sessions, data)
    return data


def _local_range(first: str, last_exclusive: str) -> tuple[dt.datetime, dt.datetime]:
    return (
        local_day_start(dt.date.fromisoformat(first), STOCKHOLM),
        local_day_start(dt.date.fromisoformat(last_exclusive), STOCKHOLM),
    )


async def test_a_session_at_23_30_utc_counts_on_the_next_local_day(
    store: Store, data: Dataset
) -> None:
    start, end = _local_range("2026-03-28", "2026-03-31")
    local = await store.read(lambda: energy_per("day", ADMIN, Node(), start, end, zone=STOCKHOLM))
    assert [(r["bucket"], r["energy_kwh"], r["sessions"]) for r in local] == [
        ("2026-03-29", 8.0, 2),
        ("2026-03-30", 1.0, 1),
    ]
    utc = await store.read(
        energy_per, "day", ADMIN, Node(), dt.datetime(2026, 3, 28), dt.datetime(2026, 3, 31)
    )
    assert [(r["bucket"], r["sessions"]) for r in utc] == [("2026-03-28", 1), ("2026-03-29", 2)]
    days = await store.read(lambda: sessions_per_day(ADMIN, Node(), start, end, zone=STOCKHOLM))
    assert days == [("2026-03-29", 2), ("2026-03-30", 1)]


async def test_hours_and_weekdays_are_local_on_the_25_hour_day(store: Store, data: Dataset) -> None:
    start, end = _local_range("2026-10-25", "2026-10-27")
    hours = await store.read(lambda: by_hour(ADMIN, Node(), start, end, zone=STOCKHOLM))
    counts = {r["hour"]: r["sessions"] for r in hours if r["sessions"]}
    assert counts == {2: 2, 23: 1, 0: 1}  # both 02:30s fall in the local hour 02
    assert len(hours) == 24
    weekdays = await store.read(lambda: by_weekday(ADMIN, Node(), start, end, zone=STOCKHOLM))
    assert {r["name"]: r["sessions"] for r in weekdays if r["sessions"]} == {"Sun": 3, "Mon": 1}


async def test_folded_days_match_each_sessions_own_local_day(store: Store, data: Dataset) -> None:
    start, end = dt.datetime(2026, 1, 1), dt.datetime(2027, 1, 1)
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _name, begin, _stop, wh, *_ in SESSIONS:
        day = utc_to_local(t(begin), STOCKHOLM).date().isoformat()
        expected[day][0] += wh
        expected[day][1] += 1
    for begin, wh in DST_SESSIONS:
        day = utc_to_local(t(begin), STOCKHOLM).date().isoformat()
        expected[day][0] += wh
        expected[day][1] += 1
    got = await store.read(lambda: energy_per("day", ADMIN, Node(), start, end, zone=STOCKHOLM))
    assert {r["bucket"]: [round(r["energy_kwh"] * 1000), r["sessions"]] for r in got} == dict(
        expected
    )
    months = await store.read(
        lambda: energy_per("month", ADMIN, Node(), start, end, zone=STOCKHOLM)
    )
    assert [r["bucket"] for r in months] == ["2026-03", "2026-10"]


async def test_occupancy_days_run_from_local_midnight_to_local_midnight(
    store: Store, data: Dataset
) -> None:
    start, end = _local_range("2026-10-24", "2026-10-28")
    rows = await store.read(
        lambda: occupancy(ADMIN, Node("site", data.sites["Kista"]), start, end, zone=STOCKHOLM)
    )
    assert [r["bucket"] for r in rows] == [
        "2026-10-24 00:00:00",
        "2026-10-25 00:00:00",
        "2026-10-26 00:00:00",
        "2026-10-27 00:00:00",
    ]
    # one outlet; 25 October (25 hours) holds 3 sessions of 20 minutes, the 26th one
    assert [r["outlet_hours"] for r in rows] == [0.0, 1.0, 0.333, 0.0]
    assert rows[1]["occupancy"] == round(1 / 25, 4)


async def test_dashboard_today_is_the_local_day(store: Store, data: Dataset) -> None:
    now = dt.datetime(2026, 3, 29, 10, 0)  # 12:00 CEST; the local day began 23:00 UTC on the 28th
    local = await store.read(lambda: today_vs_last_week(ADMIN, Node(), now=now, zone=STOCKHOLM))
    assert (local["date"], local["last_week_date"]) == ("2026-03-29", "2026-03-22")
    assert local["today"] == {"sessions": 1, "energy_kwh": 5.0}  # 23:30 UTC on the 28th
    utc = await store.read(lambda: today_vs_last_week(ADMIN, Node(), now=now))
    assert utc["today"] == {"sessions": 0, "energy_kwh": 0.0}
    # the same wall-clock time a week before is 12:00 CET = 11:00 UTC: 10:30 UTC is in it
    assert local["last_week_same_time"] == {"sessions": 1, "energy_kwh": 0.7}
    assert utc["last_week_same_time"]["sessions"] == 0
