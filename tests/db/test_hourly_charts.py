"""Charts from the hourly aggregates give today's SQL answers, in any zone, and the
aggregates follow every change to a session in its own transaction."""

from __future__ import annotations

import datetime as dt
import random
from functools import partial
from typing import Any

import pytest

from db import Store
from db.demo.demo_data import generate_sessions
from db.schema.migrations.m0011_session_hour_stats import fill
from db.schema.models import ChargingSession as S
from db.schema.models import Station
from db.sessions import hourly_charts
from db.sessions.session_aggregates import (
    by_hour,
    by_weekday,
    energy_per,
    occupancy,
    sessions_per_day,
)
from db.system.timezones import local_to_utc
from db.topology.scope import Node, Viewer

NOW = dt.datetime(2026, 4, 10, 12, 0, 0)
ZONES = [None, "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe"]
ADMIN = Viewer("admin")


@pytest.fixture(name="demo")
async def _demo(store: Store) -> None:
    await store.write(lambda: generate_sessions(store.database, 900, days=45, now=NOW, seed=11))


def _charts(viewer: Viewer, node: Node, zone: str | None) -> dict[str, Any]:
    """Every chart the aggregates serve, over 40 local days and over 2 local days."""
    first = local_to_utc(dt.datetime(2026, 3, 1), zone)
    last = local_to_utc(dt.datetime(2026, 4, 10), zone)
    short = (
        local_to_utc(dt.datetime(2026, 3, 28), zone),
        local_to_utc(dt.datetime(2026, 3, 30), zone),
    )
    out: dict[str, Any] = {}
    for unit in ("day", "week", "month"):
        out[f"energy-{unit}"] = energy_per(unit, viewer, node, first, last, zone=zone)
    out["sessions-day"] = sessions_per_day(viewer, node, first, last, zone=zone)
    out["by-hour"] = by_hour(viewer, node, first, last, zone=zone)
    out["by-weekday"] = by_weekday(viewer, node, first, last, zone=zone)
    out["occupancy-days"] = occupancy(viewer, node, first, last, now=NOW, zone=zone)
    out["occupancy-hours"] = occupancy(viewer, node, *short, now=NOW, zone=zone)
    return out


def _both_paths(viewer: Viewer, node: Node, zone: str | None) -> tuple[Any, Any]:
    assert hourly_charts.ENABLED
    fast = _charts(viewer, node, zone)
    hourly_charts.ENABLED = False
    try:
        sql = _charts(viewer, node, zone)
    finally:
        hourly_charts.ENABLED = True
    return fast, sql


def _same(fast: dict[str, Any], sql: dict[str, Any]) -> None:
    for name, rows in sql.items():
        if name.startswith("occupancy"):
            assert len(fast[name]) == len(rows), name
            for a, b in zip(fast[name], rows, strict=True):
                # sums of the same seconds in another order: equal to the shown precision
                assert a["bucket"] == b["bucket"]
                assert a["outlet_hours"] == pytest.approx(b["outlet_hours"], abs=0.0011)
                assert a["occupancy"] == pytest.approx(b["occupancy"], abs=0.00011)
        else:
            assert fast[name] == rows, name
    assert any(r["sessions"] for r in sql["energy-day"])
    assert any(r["outlet_hours"] for r in sql["occupancy-days"])


@pytest.mark.parametrize("zone", ZONES)
async def test_aggregates_answer_as_the_sessions_table(
    store: Store, demo: None, zone: str | None
) -> None:
    fast, sql = await store.read(_both_paths, ADMIN, Node(), zone)
    _same(fast, sql)
    whole_hours = zone != "Australia/Lord_Howe"  # half an hour of DST: the table answers
    first, last = (
        local_to_utc(dt.datetime(2026, 3, 1), zone),
        local_to_utc(dt.datetime(2026, 4, 10), zone),
    )
    assert hourly_charts.usable(ADMIN, Node(), first, last, zone) == whole_hours


async def test_aggregates_answer_as_the_table_at_every_node_and_for_a_site_admin(
    store: Store, demo: None
) -> None:
    def nodes() -> list[tuple[Viewer, Node]]:
        station = Station.select().order_by(Station.id).first()
        outlet = station.outlets.first()
        site_admin = Viewer("site-admin", None, station.site_id)
        return [
            (ADMIN, Node("site", station.site_id)),
            (ADMIN, Node("floor", station.floor_id)) if station.floor_id else (ADMIN, Node()),
            (ADMIN, Node("station", station.id)),
            (ADMIN, Node("outlet", outlet.id)),
            (site_admin, Node()),
        ]

    for viewer, node in await store.read(nodes):
        fast, sql = await store.read(_both_paths, viewer, node, "Europe/Stockholm")
        _same(fast, sql)


async def test_aggregates_follow_closes_corrections_and_deletions(store: Store, demo: None) -> None:
    rng = random.Random(5)

    def change() -> None:
        ids = [s.id for s in S.select(S.id)]
        for session_id in rng.sample(ids, 40):  # energy and end corrected
            session = S.get_by_id(session_id)
            if session.end_time is None:
                continue
            S.update(
                energy_wh=S.energy_wh + 1234,
                end_time=session.end_time + dt.timedelta(minutes=rng.randint(1, 200)),
            ).where(S.id == session_id).execute()
        running = list(S.select().where(S.end_time.is_null()).limit(5))
        for session in running:  # closed, as StopTransaction does
            S.update(
                end_time=NOW - dt.timedelta(minutes=5),
                meter_stop=session.meter_start + 900,
                energy_wh=900,
            ).where(S.id == session.id).execute()
        S.delete().where(S.id.in_(rng.sample(ids, 30))).execute()
        S.update(authentication=2).where(S.id.in_(rng.sample(ids, 10))).execute()

    await store.write(change)
    fast, sql = await store.read(_both_paths, ADMIN, Node(), "America/New_York")
    _same(fast, sql)


async def test_rebuild_gives_the_aggregates_the_triggers_kept(store: Store, demo: None) -> None:
    def snapshot() -> list[tuple[int, int, int, float]]:
        rows = store.database.execute_sql(
            'SELECT "slot", "site_id", "sessions", "energy_wh", "occupied_s" '
            'FROM "session_hour_site" ORDER BY 1, 2'
        ).fetchall()
        # rows that triggers added and took away again are empty; a rebuild has none
        return [
            (int(slot), int(site), int(n), int(wh), round(float(sec), 3))
            for slot, site, n, wh, sec in rows
            if n or float(sec) > 0.001
        ]

    kept = await store.read(snapshot)
    await store.write(partial(fill, store.database))
    rebuilt = await store.read(snapshot)
    assert rebuilt == kept
    assert len(kept) > 100


async def test_a_bulk_demo_fill_rebuilds_the_aggregates_and_keeps_the_triggers(
    store: Store,
) -> None:
    from db.demo.demo_data import AGGREGATES_AFTER

    totals = 'SELECT SUM("sessions"), SUM("energy_wh") FROM "session_hour_site"'

    def fill_then_count() -> tuple[Any, Any]:
        generate_sessions(store.database, AGGREGATES_AFTER, days=30, now=NOW, seed=2)
        counted = store.database.execute_sql(
            'SELECT COUNT(*), SUM("energy_wh") FROM "charging_session" '
            'WHERE "end_time" IS NOT NULL AND "authentication" != 2'
        ).fetchone()
        return store.database.execute_sql(totals).fetchone(), counted

    aggregated, counted = await store.write(fill_then_count)
    assert tuple(int(v) for v in aggregated) == tuple(int(v) for v in counted)

    def close_one_more() -> Any:  # the triggers are back: a new session is counted at once
        session = S.select().where(S.end_time.is_null(False)).first()
        S.delete().where(S.id == session.id).execute()
        return store.database.execute_sql(totals).fetchone()

    after = await store.write(close_one_more)
    assert int(after[0]) == int(aggregated[0]) - 1
