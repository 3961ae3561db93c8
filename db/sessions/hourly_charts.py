"""Diagram data from the hourly aggregates (migration m0011), folded into local buckets.

``session_hour_site`` / ``session_hour_outlet`` hold closed sessions per UTC hour (kept
by triggers in the session's own transaction); running sessions are few and read live.
A chart takes this path when the aggregates can answer exactly: an administrator,
support or a site administrator (EV users see their own sessions: the table), bounds on
whole UTC hours and a zone whose offset is whole hours (a quarter-hour zone needs finer
slots than an hour: the table). ``session_aggregates`` falls back to SQL otherwise.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import peewee
from peewee import fn

from db.engine.connection import database_proxy
from db.engine.dialect import Dialect
from db.schema.models import ChargingSession, Station
from db.system.timezones import fold_slots, slot_seconds
from db.topology.scope import COUNTED, Node, Viewer, session_scope

__all__ = [
    "ENABLED",
    "aggregates_rebuilt_after",
    "folded",
    "occupied_seconds",
    "rebuild",
    "slot_totals",
    "usable",
]

#: False: every chart aggregates the sessions table in SQL (tests compare both paths)
ENABLED = True

S = ChargingSession
HOUR = 3600
_EPOCH = dt.datetime(1970, 1, 1)
#: as ``session_aggregates.LONGEST_SESSION``: how far back a running session may start
LONGEST_SESSION = dt.timedelta(days=2)

_SITE = peewee.Table(
    "session_hour_site", ("slot", "site_id", "sessions", "energy_wh", "occupied_s")
)
_OUTLET = peewee.Table(
    "session_hour_outlet",
    ("slot", "site_id", "station_id", "outlet_id", "sessions", "energy_wh", "occupied_s"),
)


def _c(table: peewee.Table, name: str) -> Any:
    return peewee.Column(table, name)


def _whole_hour(moment: dt.datetime) -> bool:
    return moment.minute == 0 and moment.second == 0 and moment.microsecond == 0


def usable(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime, zone: str | None
) -> bool:
    """Whether the aggregates answer this chart exactly."""
    if not ENABLED:
        return False
    if viewer.role not in ("admin", "support", "site-admin"):
        return False
    if viewer.role == "site-admin" and viewer.site_id is None:
        return False
    if not (_whole_hour(start) and _whole_hour(end)) or end <= start:
        return False
    return slot_seconds(zone, start, end) == HOUR


def _slot(moment: dt.datetime) -> int:
    return int((moment - _EPOCH).total_seconds()) // HOUR


def _source(viewer: Viewer, node: Node) -> tuple[peewee.Table, list[Any]]:
    """The aggregate table for this scope and its WHERE terms."""
    terms: list[Any] = []
    if node.kind in ("system", "site"):
        table = _SITE
        if node.kind == "site":
            terms.append(_c(table, "site_id") == node.id)
    else:
        table = _OUTLET
        if node.kind == "floor":
            floor_stations = Station.select(Station.id).where(Station.floor == node.id)
            terms.append(_c(table, "station_id").in_(floor_stations))
        elif node.kind == "station":
            terms.append(_c(table, "station_id") == node.id)
        else:
            terms.append(_c(table, "outlet_id") == node.id)
    if viewer.role == "site-admin":
        terms.append(_c(table, "site_id") == viewer.site_id)
    return table, terms


def _running_energy() -> Any:
    return fn.COALESCE(S.meter_last, S.meter_start) - S.meter_start


def running_by_slot(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime, width: int
) -> Any:
    """``[(UTC slot of ``width`` seconds, sessions, Wh so far)]`` of the running sessions
    started in ``[start, end)`` (not in any aggregate yet: read live)."""
    slot = Dialect(database_proxy.obj).epoch_slot(S.start_time, width)
    return (
        S.select(slot, fn.COUNT(S.id), fn.SUM(_running_energy()))
        .where(
            session_scope(viewer, node),
            COUNTED,
            S.end_time.is_null(),
            S.start_time >= start,
            S.start_time < end,
        )
        .group_by(slot)
        .tuples()
    )


def slot_totals(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, int, int]]:
    """``[(UTC hour slot, sessions, Wh)]`` of the sessions started in ``[start, end)``:
    closed ones from the aggregates, running ones read live (their energy so far)."""
    table, terms = _source(viewer, node)
    query = (
        table.select(
            _c(table, "slot"), fn.SUM(_c(table, "sessions")), fn.SUM(_c(table, "energy_wh"))
        )
        .where(
            _c(table, "slot") >= _slot(start),
            _c(table, "slot") < _slot(end),
            _c(table, "sessions") != 0,
            *terms,
        )
        .group_by(_c(table, "slot"))
        .bind(database_proxy.obj)
        .tuples()
    )
    totals: dict[int, list[int]] = {int(s): [int(n), int(wh or 0)] for s, n, wh in query}
    for s, n, wh in running_by_slot(viewer, node, start, end, HOUR):
        entry = totals.setdefault(int(s), [0, 0])
        entry[0] += int(n)
        entry[1] += int(wh or 0)
    return [(s, n, wh) for s, (n, wh) in sorted(totals.items()) if n]


def folded(
    unit: str,
    zone: str | None,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[Any, tuple[int, int]]:
    """``{local bucket: (sessions, Wh)}`` by session start (``unit`` as ``fold_slots``)."""
    rows = slot_totals(viewer, node, start, end)
    return {
        key: (int(n), int(wh))
        for key, (n, wh) in fold_slots(rows, zone, unit, HOUR, combine=("sum", "sum")).items()
    }


def occupied_seconds(
    viewer: Viewer,
    node: Node,
    buckets: list[tuple[dt.datetime, dt.datetime]],
    now: dt.datetime,
) -> dict[dt.datetime, float]:
    """``{bucket start: outlet-seconds occupied}`` over whole-hour buckets (naive UTC):
    closed sessions from the aggregates, running ones up to ``now`` read live."""
    if not buckets:
        return {}
    first, last = buckets[0][0], buckets[-1][1]
    table, terms = _source(viewer, node)
    query = (
        table.select(_c(table, "slot"), fn.SUM(_c(table, "occupied_s")))
        .where(_c(table, "slot") >= _slot(first), _c(table, "slot") < _slot(last), *terms)
        .group_by(_c(table, "slot"))
        .bind(database_proxy.obj)
        .tuples()
    )
    starts = [_slot(b0) for b0, _ in buckets]
    used = [0.0] * len(buckets)
    for slot, seconds in query:
        index = bisect.bisect_right(starts, int(slot)) - 1
        if index >= 0:
            used[index] += float(seconds or 0)
    running = (
        S.select(S.start_time)
        .where(
            session_scope(viewer, node),
            COUNTED,
            S.end_time.is_null(),
            S.start_time >= first - LONGEST_SESSION,
            S.start_time < last,
        )
        .tuples()
    )
    bucket_starts = [b0 for b0, _ in buckets]
    for (began,) in running:
        began = began if isinstance(began, dt.datetime) else dt.datetime.fromisoformat(began)
        if now <= began:
            continue
        index = max(0, bisect.bisect_right(bucket_starts, began) - 1)
        for position in range(index, len(buckets)):
            b0, b1 = buckets[position]
            if b0 >= now:
                break
            # as the SQL: a bucket counts a session that started at most LONGEST_SESSION before
            if began >= b0 - LONGEST_SESSION and began < b1:
                overlap = (min(now, b1) - max(began, b0)).total_seconds()
                used[position] += max(0.0, round(overlap, 3))
    return {b0: seconds for (b0, _), seconds in zip(buckets, used, strict=True)}


@contextlib.contextmanager
def aggregates_rebuilt_after(database: peewee.Database) -> Iterator[None]:
    """A bulk load of sessions (demo data): the aggregate triggers (hourly and per day) off
    while it runs, the aggregates recomputed once after (a trigger per inserted row makes
    the load 2-3x slower). The triggers come back even when the load fails."""
    from db.schema.migrations import m0011_session_hour_stats as m0011
    from db.schema.migrations import m0020_session_day_quarters as m0020
    from db.schema.migrations import m0021_chart_triggers_when as m0021

    sqlite = isinstance(database, peewee.SqliteDatabase)
    if sqlite:
        for name in ("session_hour_insert", "session_hour_update", "session_hour_delete"):
            database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')
        m0020.drop_triggers(database)
    else:
        m0021.drop_postgres(database, "session_hour")
        m0021.drop_postgres(database, "session_day")
    try:
        yield
    finally:
        with database.atomic():
            if sqlite:
                m0011._sqlite_triggers(database)
            else:
                m0011._postgres_triggers(database)
            m0020.triggers(database)
            m0021.limit(database)
            m0011.fill(database)
            m0020.fill(database)


def rebuild(database: peewee.Database) -> tuple[int, int]:
    """Recompute the hourly aggregates and the per-day rollup from the stored sessions, in
    one transaction (the SQL of the migrations that made them); returns the number of
    site-hours and of site-days."""
    from db.schema.migrations.m0011_session_hour_stats import fill
    from db.schema.migrations.m0020_session_day_quarters import fill as fill_days

    with database.atomic():
        fill(database)
        fill_days(database)
        hours = database.execute_sql('SELECT COUNT(*) FROM "session_hour_site"').fetchone()[0]
        days = database.execute_sql('SELECT COUNT(*) FROM "session_day_site"').fetchone()[0]
        return int(hours), int(days)
