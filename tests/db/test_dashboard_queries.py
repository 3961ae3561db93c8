"""Dashboard numbers: today vs the same day last week, occupancy per site."""

from __future__ import annotations

import datetime as dt

import pytest

from db import Store
from db.sessions.dashboard_queries import occupancy_per_site, today_vs_last_week
from db.topology.scope import Node, Viewer
from tests.db.session_dataset import NOW, Dataset, build_dataset

ADMIN = Viewer(role="admin")


@pytest.fixture(name="data")
async def _data(store: Store) -> Dataset:
    return await store.write(build_dataset)


async def test_today_counts_the_running_session_live(store: Store, data: Dataset) -> None:
    got = await store.read(lambda: today_vs_last_week(ADMIN, Node(), now=NOW))
    assert got["today"] == {"sessions": 1, "energy_kwh": 2.5}
    assert got["last_week_same_time"] == {"sessions": 0, "energy_kwh": 0.0}
    assert got["energy_change_pct"] is None


async def test_same_weekday_last_week_is_compared_up_to_the_same_time(
    store: Store, data: Dataset
) -> None:
    # a week after s4 (Wednesday 09:28:31, 16.4 kWh), at noon: s4 is in the comparison
    now = dt.datetime(2026, 3, 25, 12, 0)
    got = await store.read(lambda: today_vs_last_week(ADMIN, Node(), now=now))
    assert got["last_week_date"] == "2026-03-18"
    assert got["last_week_same_time"] == {"sessions": 1, "energy_kwh": 16.4}
    assert got["energy_change_pct"] == -100.0
    early = dt.datetime(2026, 3, 25, 9, 0)  # before s4 started a week ago
    got = await store.read(lambda: today_vs_last_week(ADMIN, Node(), now=early))
    assert got["last_week_same_time"]["sessions"] == 0
    assert got["last_week_whole_day"] == {"sessions": 1, "energy_kwh": 16.4}


async def test_occupancy_per_site_counts_running_sessions_on_outlets(
    store: Store, data: Dataset
) -> None:
    got = await store.read(lambda: occupancy_per_site(ADMIN, Node(), now=NOW))
    assert [(r["site"], r["charging"], r["outlets"]) for r in got] == [
        ("Solna", 1, 3),
        ("Kista", 0, 1),
    ]
    sam = Viewer("site-admin", data.users["sam"], data.sites["Solna"])
    mine = await store.read(lambda: occupancy_per_site(sam, Node(), now=NOW))
    assert [r["site"] for r in mine] == ["Solna"]
    # a "running" session older than two days is a lost stop, not an occupied outlet
    later = await store.read(
        lambda: occupancy_per_site(ADMIN, Node(), now=NOW + dt.timedelta(days=3))
    )
    assert [r["charging"] for r in later] == [0, 0]
