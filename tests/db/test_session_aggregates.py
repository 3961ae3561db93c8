"""Diagram aggregates against values computed by hand from the known dataset."""

from __future__ import annotations

import datetime as dt

import pytest

from db import Store
from db.sessions.session_aggregates import (
    auth_share,
    by_hour,
    by_weekday,
    data_span,
    energy_by_station,
    energy_per,
    occupancy,
    peak_power,
)
from db.topology.scope import Node, Viewer
from tests.db.session_dataset import NOW, Dataset, build_dataset

ADMIN = Viewer(role="admin")
MARCH = (dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 1))


@pytest.fixture(name="data")
async def _data(store: Store) -> Dataset:
    return await store.write(build_dataset)


async def test_energy_and_sessions_per_day(store: Store, data: Dataset) -> None:
    got = await store.read(energy_per, "day", ADMIN, Node(), *MARCH)
    assert [(r["bucket"], r["energy_kwh"], r["sessions"]) for r in got] == [
        ("2026-03-16", 13.5, 3),
        ("2026-03-17", 4.8, 1),
        ("2026-03-18", 16.4, 1),
        ("2026-03-19", 46.5, 1),
        ("2026-03-20", 7.0, 1),
        ("2026-03-21", 2.5, 1),  # the running session counts with its live energy
    ]


async def test_energy_per_week_starts_on_monday_and_per_month(store: Store, data: Dataset) -> None:
    weeks = await store.read(energy_per, "week", ADMIN, Node(), *MARCH)
    assert weeks == [{"bucket": "2026-03-16", "energy_kwh": 90.7, "sessions": 8}]
    months = await store.read(energy_per, "month", ADMIN, Node(), *MARCH)
    assert months == [{"bucket": "2026-03", "energy_kwh": 90.7, "sessions": 8}]


async def test_aggregates_follow_role_and_node(store: Store, data: Dataset) -> None:
    sam = Viewer("site-admin", data.users["sam"], data.sites["Solna"])
    months = await store.read(energy_per, "month", sam, Node(), *MARCH)
    assert months == [{"bucket": "2026-03", "energy_kwh": 25.8, "sessions": 5}]
    kista = await store.read(energy_per, "month", sam, Node("site", data.sites["Kista"]), *MARCH)
    assert kista == []
    alice = Viewer("ev-user", data.users["alice"])
    months = await store.read(energy_per, "month", alice, Node(), *MARCH)
    assert months == [{"bucket": "2026-03", "energy_kwh": 28.9, "sessions": 3}]


async def test_range_bounds_the_start_time(store: Store, data: Dataset) -> None:
    got = await store.read(
        energy_per, "day", ADMIN, Node(), dt.datetime(2026, 3, 17), dt.datetime(2026, 3, 19)
    )
    assert [r["bucket"] for r in got] == ["2026-03-17", "2026-03-18"]


async def test_sessions_by_hour_and_weekday(store: Store, data: Dataset) -> None:
    hours = await store.read(by_hour, ADMIN, Node(), *MARCH)
    assert len(hours) == 24
    assert {h["hour"]: h["sessions"] for h in hours if h["sessions"]} == {
        8: 2,
        9: 1,
        10: 1,
        11: 1,
        12: 1,
        15: 1,
        20: 1,
    }
    days = await store.read(by_weekday, ADMIN, Node(), *MARCH)
    assert [(d["name"], d["sessions"]) for d in days] == [
        ("Mon", 3),
        ("Tue", 1),
        ("Wed", 1),
        ("Thu", 1),
        ("Fri", 1),
        ("Sat", 1),
        ("Sun", 0),
    ]


async def test_energy_by_station_is_ranked(store: Store, data: Dataset) -> None:
    got = await store.read(energy_by_station, ADMIN, Node(), *MARCH)
    assert [(r["node"], r["energy_kwh"], r["sessions"]) for r in got] == [
        ("CP-B1", 64.9, 3),
        ("CP-A1", 18.5, 3),
        ("CP-A2", 7.3, 2),
    ]
    assert got[0]["station"] == "Kista Plaza"


async def test_rfid_versus_anonymous(store: Store, data: Dataset) -> None:
    got = await store.read(auth_share, ADMIN, Node(), *MARCH)
    assert got == [
        {"auth": "RFID", "sessions": 5, "energy_kwh": 40.7},
        {"auth": "Anonymous", "sessions": 3, "energy_kwh": 50.0},
    ]


async def test_peak_power_from_sessions_and_samples(store: Store, data: Dataset) -> None:
    got = {r["bucket"]: r for r in await store.read(peak_power, "day", ADMIN, Node(), *MARCH)}
    # s2: 1.5 kWh in 6 min 4 s = 14.835 kW beats s1 (6.667 kW) and s8 (4 kW)
    assert got["2026-03-16"]["session_kw"] == pytest.approx(14.835, abs=0.001)
    assert got["2026-03-19"]["session_kw"] == pytest.approx(4.65)
    # the running session has no average yet; its samples peak at 2.6 kW
    assert got["2026-03-21"] == {"bucket": "2026-03-21", "session_kw": None, "sample_kw": 2.6}


async def test_occupancy_per_hour_shares_the_node_outlets(store: Store, data: Dataset) -> None:
    a1 = Node("station", data.stations["CP-A1"])  # two outlets
    got = await store.read(
        lambda: occupancy(ADMIN, a1, dt.datetime(2026, 3, 16), dt.datetime(2026, 3, 17), now=NOW)
    )
    assert len(got) == 24
    by_hour_start = {r["bucket"][11:13]: r for r in got}
    assert by_hour_start["08"]["occupancy"] == 0.5  # s1, one of two outlets, the whole hour
    assert by_hour_start["10"]["outlet_hours"] == pytest.approx(364 / 3600, abs=0.001)
    assert by_hour_start["11"]["occupancy"] == 0.0


async def test_occupancy_per_day_splits_a_night_session(store: Store, data: Dataset) -> None:
    b1 = Node("station", data.stations["CP-B1"])  # one outlet; s5 20:00 → 06:00
    got = await store.read(
        lambda: occupancy(ADMIN, b1, dt.datetime(2026, 3, 19), dt.datetime(2026, 3, 23), now=NOW)
    )
    assert [r["outlet_hours"] for r in got] == [4.0, 6.0, 0.0, 0.0]
    assert got[0]["occupancy"] == pytest.approx(4 / 24, abs=0.0001)


async def test_data_span_is_the_first_and_last_start(store: Store, data: Dataset) -> None:
    first, last = await store.read(data_span, ADMIN, Node())
    assert first == dt.datetime(2026, 3, 16, 8, 0)
    assert last == dt.datetime(2026, 3, 21, 11, 0)
