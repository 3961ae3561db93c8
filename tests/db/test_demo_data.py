"""The demo generator: exact count, no overlapping sessions on an outlet, plausible patterns."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

from db import Store
from db.demo import demo_data
from db.demo.demo_data import generate_sessions
from db.schema.models import ChargingSession, Outlet, utcnow


async def test_a_realistic_month_of_sessions(store: Store) -> None:
    now = utcnow().replace(microsecond=0)
    stats = await store.read(
        lambda: generate_sessions(store.database, 6000, seed=7, days=60, now=now)
    )
    assert stats.sessions == 6000
    rows = await store.read(
        lambda: list(
            ChargingSession.select(
                ChargingSession.outlet,
                ChargingSession.start_time,
                ChargingSession.end_time,
                ChargingSession.meter_start,
                ChargingSession.meter_stop,
                ChargingSession.authentication,
                ChargingSession.user,
                ChargingSession.energy_wh,
            ).tuples()
        )
    )
    assert len(rows) == 6000
    by_outlet: dict[int, list[tuple]] = {}
    for row in rows:
        by_outlet.setdefault(row[0], []).append(row)
    for sessions in by_outlet.values():
        sessions.sort(key=lambda r: r[1])
        for before, after in itertools.pairwise(sessions):
            assert before[2] is not None, "only an outlet's last session may still run"
            assert before[2] <= after[1], "sessions on one outlet never overlap"
            assert before[4] <= after[3], "the meter only counts up"
    assert all(r[1] <= now for r in rows)
    running = [r for r in rows if r[2] is None]
    assert running == [r for r in running if r[1] > now - dt.timedelta(days=1)]
    auth = Counter(r[5] for r in rows)
    assert 0.5 < auth[1] / len(rows) < 0.95  # mostly RFID, anonymous too
    assert all((r[6] is not None) == (r[5] == 1) for r in rows)
    hours = Counter(r[1].hour for r in rows)
    assert hours[8] > 2 * hours[3]  # mornings, not nights
    assert all(r[7] > 0 for r in rows if r[2] is not None)


async def test_same_seed_same_sessions(store: Store, tmp_path: object) -> None:
    now = dt.datetime(2026, 6, 1)
    await store.read(lambda: generate_sessions(store.database, 300, seed=3, days=10, now=now))
    first = await store.read(
        lambda: list(
            ChargingSession.select(ChargingSession.start_time, ChargingSession.energy_wh)
            .order_by(ChargingSession.id)
            .tuples()
        )
    )
    await store.read(lambda: ChargingSession.delete().execute())
    await store.read(lambda: generate_sessions(store.database, 300, seed=3, days=10, now=now))
    second = await store.read(
        lambda: list(
            ChargingSession.select(ChargingSession.start_time, ChargingSession.energy_wh)
            .order_by(ChargingSession.id)
            .tuples()
        )
    )
    assert first == second


async def test_a_big_fill_builds_the_indexes_afterwards(store: Store, monkeypatch: Any) -> None:
    monkeypatch.setattr(demo_data, "BULK_REBUILD", 1000)

    def indexes() -> set[str]:
        rows = store.database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'charging_session'"
        ).fetchall()
        return {r[0] for r in rows}

    before = await store.read(indexes)
    stats = await store.read(lambda: generate_sessions(store.database, 2000, seed=5, days=20))
    assert stats.sessions == 2000
    assert await store.read(indexes) == before
    assert "charging_session_sort_duration" in before


async def test_no_running_demo_session_sits_on_an_outlet_that_says_available(store: Store) -> None:
    now = utcnow().replace(microsecond=0)
    stats = await store.read(
        lambda: generate_sessions(store.database, 2000, seed=5, days=20, now=now)
    )
    assert stats.running > 0

    def statuses_of_running() -> list[str]:
        query = (
            Outlet.select(Outlet.status)
            .join(ChargingSession, on=ChargingSession.outlet == Outlet.id)
            .where(ChargingSession.end_time.is_null())
        )
        return [o.status for o in query]

    statuses = await store.read(statuses_of_running)
    assert len(statuses) == stats.running
    assert set(statuses) == {"Charging"}
