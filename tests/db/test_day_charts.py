"""Charts from the per-day rollup give today's SQL answers in every zone (:30 and :45
offsets, DST changes inside the range), and the rollup follows every change to a session."""

from __future__ import annotations

import datetime as dt
import random
from functools import partial
from typing import Any

import pytest

from db import Store
from db.demo.demo_data import generate_sessions
from db.schema.migrations.m0020_session_day_quarters import fill
from db.schema.models import ChargingSession as S
from db.schema.models import Station
from db.sessions import day_charts, hourly_charts
from db.sessions.session_aggregates import by_hour, by_weekday, energy_per, sessions_per_day
from db.system.timezones import local_to_utc
from db.topology.scope import Node, Viewer

NOW = dt.datetime(2026, 4, 10, 12, 0, 0)
#: whole hours with and without DST; :30 all year (Kolkata), :30 with DST (St John's),
#: a half-hour DST change (Lord Howe), :45 (Kathmandu)
ZONES = [
    None,
    "Europe/Stockholm",
    "America/New_York",
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]
ADMIN = Viewer("admin")


@pytest.fixture(name="days_demo")
async def _days_demo(store: Store) -> None:
    await store.write(lambda: generate_sessions(store.database, 900, days=45, now=NOW, seed=13))


def _charts(
    viewer: Viewer, node: Node, zone: str | None, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for unit in ("day", "week", "month"):
        out[f"energy-{unit}"] = energy_per(unit, viewer, node, start, end, zone=zone)
    out["sessions-day"] = sessions_per_day(viewer, node, start, end, zone=zone)
    out["by-hour"] = by_hour(viewer, node, start, end, zone=zone)
    out["by-weekday"] = by_weekday(viewer, node, start, end, zone=zone)
    return out


def _both_paths(
    viewer: Viewer, node: Node, zone: str | None, start: dt.datetime, end: dt.datetime
) -> tuple[bool, Any, Any]:
    assert hourly_charts.ENABLED
    taken = day_charts.usable(viewer, node, start, end, zone)
    fast = _charts(viewer, node, zone, start, end)
    hourly_charts.ENABLED = False
    try:
        sql = _charts(viewer, node, zone, start, end)
    finally:
        hourly_charts.ENABLED = True
    return taken, fast, sql


def _local_range(zone: str | None) -> tuple[dt.datetime, dt.datetime]:
    """40 local days with the March DST change (and Lord Howe's April one) inside."""
    return (
        local_to_utc(dt.datetime(2026, 3, 1), zone),
        local_to_utc(dt.datetime(2026, 4, 10), zone),
    )


async def test_the_rollup_answers_as_the_sessions_table_in_every_zone(
    store: Store, days_demo: None
) -> None:
    for zone in ZONES:  # one demo fill for all (a fill costs seconds on PostgreSQL)
        taken, fast, sql = await store.read(_both_paths, ADMIN, Node(), zone, *_local_range(zone))
        assert taken, zone
        assert fast == sql, zone
        assert any(r["sessions"] for r in sql["energy-day"])
        assert sum(r["sessions"] for r in sql["by-hour"]) > 500


async def test_the_rollup_answers_as_the_table_for_a_site_and_a_site_admin(
    store: Store, days_demo: None
) -> None:
    def site_id() -> int:
        return int(Station.select().order_by(Station.id).first().site_id)

    site = await store.read(site_id)
    for viewer, node in (
        (ADMIN, Node("site", site)),
        (Viewer("site-admin", None, site), Node()),
        (Viewer("site-admin", None, site), Node("site", site)),
    ):
        for zone in ("Asia/Kolkata", "Europe/Stockholm"):
            start, end = _local_range(zone)
            taken, fast, sql = await store.read(_both_paths, viewer, node, zone, start, end)
            assert taken
            assert fast == sql
            assert any(r["sessions"] for r in sql["energy-day"])


async def test_ranges_starting_and_ending_on_any_quarter_hour_answer_as_the_table(
    store: Store, days_demo: None
) -> None:
    rng = random.Random(19)
    first = dt.datetime(2026, 2, 26)
    for _ in range(12):
        zone = rng.choice(ZONES)
        start = first + dt.timedelta(minutes=15 * rng.randrange(0, 40 * 96))
        end = start + dt.timedelta(minutes=15 * rng.randrange(1, 12 * 96))
        taken, fast, sql = await store.read(_both_paths, ADMIN, Node(), zone, start, end)
        assert taken, (zone, start, end)
        assert fast == sql, (zone, start, end)


async def test_a_range_off_the_quarter_hours_or_below_a_site_is_left_to_other_paths(
    store: Store, days_demo: None
) -> None:
    start, end = _local_range("Europe/Stockholm")
    assert not day_charts.usable(ADMIN, Node(), start + dt.timedelta(minutes=5), end, None)
    assert not day_charts.usable(ADMIN, Node("station", 1), start, end, None)
    assert not day_charts.usable(Viewer("ev-user", 1), Node(), start, end, None)
    odd = dt.datetime(2026, 3, 1, 0, 7)
    taken, fast, sql = await store.read(_both_paths, ADMIN, Node(), "Asia/Kolkata", odd, end)
    assert not taken
    assert fast == sql


def test_periods_split_where_the_clocks_change() -> None:
    start = local_to_utc(dt.datetime(2026, 3, 1), "Europe/Stockholm")
    end = local_to_utc(dt.datetime(2026, 11, 1), "Europe/Stockholm")
    first, last = (int((t - dt.datetime(1970, 1, 1)).total_seconds()) // 900 for t in (start, end))
    found = day_charts.periods("Europe/Stockholm", first, last)
    assert found is not None
    changes = [dt.datetime(1970, 1, 1) + dt.timedelta(seconds=p0 * 900) for p0, _, _ in found[1:]]
    assert changes == [dt.datetime(2026, 3, 29, 1), dt.datetime(2026, 10, 25, 1)]
    assert [offset for _, _, offset in found] == [4, 8, 4]
    assert day_charts.periods("Asia/Kolkata", first, last) == ((first, last, 22),)


def _snapshot(store: Store) -> list[tuple[int, ...]]:
    rows = store.database.execute_sql('SELECT * FROM "session_day_site" ORDER BY 1, 2').fetchall()
    # rows that triggers added and took away again are all zero; a rebuild has none
    return [tuple(int(v) for v in row) for row in rows if any(row[2:])]


async def test_the_rollup_follows_closes_corrections_and_deletions(
    store: Store, days_demo: None
) -> None:
    rng = random.Random(7)

    def change() -> None:
        ids = [s.id for s in S.select(S.id)]
        for session_id in rng.sample(ids, 40):  # energy, start and end corrected
            session = S.get_by_id(session_id)
            if session.end_time is None:
                continue
            S.update(
                energy_wh=S.energy_wh + 1234,
                start_time=session.start_time + dt.timedelta(minutes=rng.randint(-90, 90)),
                end_time=session.end_time + dt.timedelta(minutes=rng.randint(1, 200)),
            ).where(S.id == session_id).execute()
        for session in list(S.select().where(S.end_time.is_null()).limit(5)):
            S.update(  # closed, as StopTransaction does
                end_time=NOW - dt.timedelta(minutes=5),
                meter_stop=session.meter_start + 900,
                energy_wh=900,
            ).where(S.id == session.id).execute()
        S.delete().where(S.id.in_(rng.sample(ids, 30))).execute()
        S.update(authentication=2).where(S.id.in_(rng.sample(ids, 10))).execute()

    await store.write(change)
    kept = await store.read(_snapshot, store)
    await store.write(partial(fill, store.database))
    assert await store.read(_snapshot, store) == kept
    assert len(kept) > 40
    zone = "America/St_Johns"
    taken, fast, sql = await store.read(_both_paths, ADMIN, Node(), zone, *_local_range(zone))
    assert taken
    assert fast == sql


async def test_a_bulk_demo_fill_rebuilds_the_rollup_and_keeps_its_triggers(store: Store) -> None:
    from db.demo.demo_data import AGGREGATES_AFTER

    totals = (
        'SELECT SUM("n96"), SUM("wh96") FROM "session_day_site" WHERE "site_id" = -1 '
        'UNION ALL SELECT SUM("n96"), SUM("wh96") FROM "session_day_site" WHERE "site_id" >= 0'
    )

    def fill_then_count() -> tuple[list[tuple[int, int]], tuple[int, int]]:
        generate_sessions(store.database, AGGREGATES_AFTER, days=30, now=NOW, seed=3)
        counted = store.database.execute_sql(
            'SELECT COUNT(*), SUM("energy_wh") FROM "charging_session" '
            'WHERE "end_time" IS NOT NULL AND "authentication" != 2'
        ).fetchone()
        rows = store.database.execute_sql(totals).fetchall()
        return [(int(n), int(wh)) for n, wh in rows], (int(counted[0]), int(counted[1]))

    (system, sites), counted = await store.write(fill_then_count)
    assert system == sites == counted

    def delete_one() -> int:  # the triggers are back: a deletion is counted at once
        session = S.select().where(S.end_time.is_null(False)).first()
        S.delete().where(S.id == session.id).execute()
        return int(store.database.execute_sql(totals).fetchone()[0])

    assert await store.write(delete_one) == counted[0] - 1
