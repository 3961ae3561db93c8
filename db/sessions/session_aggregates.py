"""Diagram data (SPEC §5): sessions aggregated in SQL, scoped by node and role.

Every function groups in the database (``GROUP BY`` over date buckets built by
``db.engine.dialect``) and returns small lists ready for a chart. ``start``/``end`` bound
the sessions' start time, ``[start, end)`` (naive UTC).

``zone``: buckets are days, weeks, months, hours and weekdays of that zone's wall clock.
For a zone other than UTC the database groups by UTC hour (``Dialect.epoch_slot``; a
quarter hour for half-hour zones) and ``db.system.timezones.fold_slots`` adds those rows up into
local buckets, so a 23-hour day in March counts exactly its own sessions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee
from peewee import JOIN, Case, ValuesList, fn

from db.engine.connection import database_proxy
from db.engine.dialect import Dialect
from db.schema.models import ChargingSession, MeterSample, Outlet, Station, utcnow
from db.sessions import day_charts, hourly_charts
from db.system.timezones import UTC_NAME, fold_slots, local_day_start, slot_seconds, utc_to_local
from db.topology.scope import COUNTED, SYSTEM, Node, Viewer, session_scope, station_scope

__all__ = [
    "CHARTS",
    "auth_share",
    "by_hour",
    "by_weekday",
    "data_span",
    "energy_by_station",
    "energy_per",
    "occupancy",
    "peak_power",
    "sessions_per_day",
]

S = ChargingSession

#: The predefined charts of the Diagrams menu: key -> title.
CHARTS: dict[str, str] = {
    "energy-day": "Energy per day",
    "energy-week": "Energy per week",
    "energy-month": "Energy per month",
    "sessions-day": "Sessions per day",
    "occupancy": "Outlet occupancy over time",
    "by-hour": "Sessions by hour of day",
    "by-weekday": "Sessions by weekday",
    "by-station": "Energy by station",
    "auth-share": "RFID vs anonymous",
    "peak-power": "Peak power",
}

#: Sessions longer than this are cut at it when looking back for overlaps (occupancy).
LONGEST_SESSION = dt.timedelta(days=2)


def _energy_wh() -> Any:
    # live energy for running sessions, as in the table
    return Case(
        None,
        [(S.end_time.is_null(), fn.COALESCE(S.meter_last, S.meter_start) - S.meter_start)],
        S.energy_wh,
    )


def _scoped(query: Any, viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime) -> Any:
    return query.where(
        session_scope(viewer, node), COUNTED, S.start_time >= start, S.start_time < end
    )


def _is_utc(zone: str | None) -> bool:
    return not zone or zone == UTC_NAME


def _folded(
    unit: str,
    zone: str | None,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    values: tuple[Any, ...],
    combine: tuple[str, ...],
) -> dict[Any, list[Any]]:
    """``values`` aggregated per UTC slot in SQL, folded into ``unit`` buckets of ``zone``."""
    seconds = slot_seconds(zone, start, end)
    slot = Dialect(database_proxy.obj).epoch_slot(S.start_time, seconds)
    query = _scoped(S.select(slot, *values), viewer, node, start, end).group_by(slot)
    return fold_slots(query.tuples(), zone, unit, seconds, combine=combine)


def _from_aggregates(
    unit: str, viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime, zone: str | None
) -> dict[Any, tuple[int, int]] | None:
    """``{local bucket: (sessions, Wh)}`` from the per-day rollup (system, site) or the
    hourly aggregates (floor, station, outlet); None when neither answers exactly."""
    if day_charts.usable(viewer, node, start, end, zone):
        return day_charts.folded(unit, zone, viewer, node, start, end)
    if hourly_charts.usable(viewer, node, start, end, zone):
        return hourly_charts.folded(unit, zone, viewer, node, start, end)
    return None


def energy_per(
    unit: str,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: str | None = None,
) -> list[dict[str, Any]]:
    """``[{bucket, energy_kwh, sessions}]`` per ``day``/``week``/``month`` of the start time."""
    found = _from_aggregates(unit, viewer, node, start, end, zone)
    if found is not None:
        return [
            {"bucket": b, "energy_kwh": round(wh / 1000.0, 3), "sessions": n}
            for b, (n, wh) in sorted(found.items())
        ]
    if not _is_utc(zone):
        folded = _folded(
            unit,
            zone,
            viewer,
            node,
            start,
            end,
            (fn.SUM(_energy_wh()), fn.COUNT(S.id)),
            ("sum", "sum"),
        )
        return [
            {"bucket": b, "energy_kwh": round(int(wh or 0) / 1000.0, 3), "sessions": int(n)}
            for b, (wh, n) in sorted(folded.items())
        ]
    d = Dialect(database_proxy.obj)
    bucket = d.bucket(S.start_time, unit)
    query = _scoped(
        S.select(
            bucket.alias("bucket"), fn.SUM(_energy_wh()).alias("wh"), fn.COUNT(S.id).alias("n")
        ),
        viewer,
        node,
        start,
        end,
    )
    rows = query.group_by(bucket).order_by(bucket).tuples()
    return [
        {"bucket": str(b), "energy_kwh": round(int(wh or 0) / 1000.0, 3), "sessions": int(n)}
        for b, wh, n in rows
    ]


def sessions_per_day(
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: str | None = None,
) -> list[tuple[str, int]]:
    """``[(day, sessions)]``: the timeline's overview. Counting alone reads only the
    start-time index (no table rows), three times faster than ``energy_per``."""
    found = _from_aggregates("day", viewer, node, start, end, zone)
    if found is not None:
        return [(b, n) for b, (n, _) in sorted(found.items())]
    if not _is_utc(zone):
        folded = _folded("day", zone, viewer, node, start, end, (fn.COUNT(S.id),), ("sum",))
        return [(b, int(n)) for b, (n,) in sorted(folded.items())]
    day = Dialect(database_proxy.obj).day(S.start_time)
    query = _scoped(S.select(day, fn.COUNT(S.id)), viewer, node, start, end)
    return [(str(d), int(n)) for d, n in query.group_by(day).order_by(day).tuples()]


def _sessions_and_wh_by(
    bucket: str,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    zone: str | None,
) -> dict[int, tuple[int, int]]:
    """{hour or weekday: (sessions, Wh)} by session start, in ``zone``."""
    found = _from_aggregates(bucket, viewer, node, start, end, zone)
    if found is not None:
        return found
    if not _is_utc(zone):
        values = (fn.COUNT(S.id), fn.SUM(_energy_wh()))
        folded = _folded(bucket, zone, viewer, node, start, end, values, ("sum", "sum"))
        return {key: (int(n), int(wh or 0)) for key, (n, wh) in folded.items()}
    expr = getattr(Dialect(database_proxy.obj), bucket)(S.start_time)
    query = _scoped(
        S.select(expr.alias("b"), fn.COUNT(S.id), fn.SUM(_energy_wh())), viewer, node, start, end
    )
    return {int(key): (int(n), int(wh or 0)) for key, n, wh in query.group_by(expr).tuples()}


def by_hour(
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: str | None = None,
) -> list[dict[str, Any]]:
    """Sessions and energy by the hour of day they started (0..23, every hour listed)."""
    found = _sessions_and_wh_by("hour", viewer, node, start, end, zone)
    return [
        {
            "hour": h,
            "sessions": found.get(h, (0, 0))[0],
            "energy_kwh": found.get(h, (0, 0))[1] / 1000,
        }
        for h in range(24)
    ]


def by_weekday(
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: str | None = None,
) -> list[dict[str, Any]]:
    """Sessions and energy by ISO weekday 1 (Monday) .. 7 (Sunday), every day listed."""
    found = _sessions_and_wh_by("weekday", viewer, node, start, end, zone)
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return [
        {
            "weekday": w,
            "name": names[w - 1],
            "sessions": found.get(w, (0, 0))[0],
            "energy_kwh": found.get(w, (0, 0))[1] / 1000,
        }
        for w in range(1, 8)
    ]


def energy_by_station(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime, *, limit: int = 20
) -> list[dict[str, Any]]:
    """The ``limit`` stations with the most energy: node identity, name, kWh, sessions."""
    wh = fn.SUM(_energy_wh())
    # the station's current name; the one kept in the session when it was removed
    name = fn.MAX(fn.COALESCE(fn.NULLIF(Station.name, ""), S.station_name))
    query = _scoped(
        S.select(S.charge_box_id, name, wh.alias("wh"), fn.COUNT(S.id)).join(
            Station, JOIN.LEFT_OUTER, on=(S.station == Station.id)
        ),
        viewer,
        node,
        start,
        end,
    )
    rows = (
        query.group_by(S.charge_box_id).order_by(wh.desc(), S.charge_box_id).limit(limit).tuples()
    )
    return [
        {
            "node": cbid,
            "station": name or cbid,
            "energy_kwh": int(e or 0) / 1000,
            "sessions": int(n),
        }
        for cbid, name, e, n in rows
    ]


def auth_share(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """RFID vs anonymous: sessions and energy of each."""
    query = _scoped(
        S.select(S.authentication, fn.COUNT(S.id), fn.SUM(_energy_wh())), viewer, node, start, end
    )
    found = {
        int(a): (int(n), int(wh or 0)) for a, n, wh in query.group_by(S.authentication).tuples()
    }
    return [
        {
            "auth": label,
            "sessions": found.get(code, (0, 0))[0],
            "energy_kwh": found.get(code, (0, 0))[1] / 1000,
        }
        for code, label in ((1, "RFID"), (0, "Anonymous"))
    ]


def peak_power(
    unit: str,
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    *,
    zone: str | None = None,
) -> list[dict[str, Any]]:
    """Per bucket: the highest sampled power (kW, from MeterValues ``Power.Active.Import``)
    and the highest average power of a session (energy / duration, kW)."""
    d = Dialect(database_proxy.obj)
    seconds = d.seconds_between(S.start_time, S.end_time)
    avg_kw = Case(
        None, [(seconds > 60, S.energy_wh * peewee.Value(3.6, converter=False) / seconds)], None
    )
    slot = slot_seconds(zone, start, end)
    local = not _is_utc(zone)
    bucket = d.epoch_slot(S.start_time, slot) if local else d.bucket(S.start_time, unit)
    sessions = _scoped(
        S.select(bucket, fn.MAX(avg_kw)).where(S.end_time.is_null(False)), viewer, node, start, end
    )
    session_rows: Any = sessions.group_by(bucket).tuples()
    if local:
        folded = fold_slots(session_rows, zone, unit, slot, combine=("max",))
        session_rows = [(b, kw) for b, (kw,) in folded.items()]
    result: dict[str, dict[str, Any]] = {}
    for b, kw in session_rows:
        result[str(b)] = {
            "bucket": str(b),
            "session_kw": round(float(kw), 3) if kw else None,
            "sample_kw": None,
        }
    sample_bucket = (
        d.epoch_slot(MeterSample.timestamp, slot)
        if local
        else d.bucket(MeterSample.timestamp, unit)
    )
    value = peewee.Cast(MeterSample.value, "REAL" if d.sqlite else "double precision")
    watts = Case(None, [(MeterSample.unit == "kW", value * 1000)], value)
    samples = (
        MeterSample.select(sample_bucket, fn.MAX(watts))
        .join(S, on=MeterSample.session == S.id)
        .where(
            MeterSample.measurand == "Power.Active.Import",
            MeterSample.timestamp >= start,
            MeterSample.timestamp < end,
            session_scope(viewer, node),
            COUNTED,
        )
        .group_by(sample_bucket)
        .tuples()
    )
    if local:
        folded = fold_slots(samples, zone, unit, slot, combine=("max",))
        samples = [(b, w) for b, (w,) in folded.items()]
    for b, w in samples:
        entry = result.setdefault(str(b), {"bucket": str(b), "session_kw": None, "sample_kw": None})
        entry["sample_kw"] = round(float(w) / 1000, 3) if w is not None else None
    return [result[k] for k in sorted(result)]


def _buckets(
    start: dt.datetime, end: dt.datetime, step: dt.timedelta, zone: str | None = None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[(b0, b1)]`` in naive UTC; day steps in a zone run from local midnight to local
    midnight (23 or 25 hours when the clocks change)."""
    out: list[tuple[dt.datetime, dt.datetime]] = []
    if step == dt.timedelta(days=1) and not _is_utc(zone):
        day = utc_to_local(start, zone).date()
        moment = start
        while moment < end and len(out) < 2000:
            day += dt.timedelta(days=1)
            following = min(local_day_start(day, zone), end)
            out.append((moment, following))
            moment = following
        return out
    moment = start
    while moment < end and len(out) < 2000:
        out.append((moment, min(moment + step, end)))
        moment += step
    return out


def occupancy(
    viewer: Viewer,
    node: Node,
    start: dt.datetime,
    end: dt.datetime,
    *,
    step: dt.timedelta | None = None,
    now: dt.datetime | None = None,
    zone: str | None = None,
) -> list[dict[str, Any]]:
    """Share of the node's outlets in use per time bucket (0..1), and outlet-hours used.

    The overlap of every session with every bucket is summed in SQL; the buckets
    (hours for ranges up to three days, else days) join as a VALUES list.
    """
    now = now or utcnow()
    if step is None:
        step = (
            dt.timedelta(hours=1) if end - start <= dt.timedelta(days=3) else dt.timedelta(days=1)
        )
    buckets = _buckets(start, end, step, zone)
    if not buckets:
        return []
    outlets = (
        Outlet.select(fn.COUNT(Outlet.id))
        .join(Station)
        .where(station_scope(viewer, node) if viewer.role != "ev-user" else peewee.SQL("1 = 1"))
    )
    if node.kind == "outlet":
        outlets = outlets.where(Outlet.id == node.id)
    outlet_count = int(outlets.scalar() or 0)
    if viewer.role == "ev-user":
        outlet_count = 1  # his own car: the share of time it was charging
    if hourly_charts.usable(viewer, node, start, end, zone) and all(
        b0.minute == 0 and b1.minute == 0 and b0.second == 0 and b1.second == 0
        for b0, b1 in buckets
    ):
        used = hourly_charts.occupied_seconds(viewer, node, buckets, now)
    else:
        used = _occupied_by_sql(viewer, node, buckets, now)
    out = []
    for b0_value, b1_value in buckets:
        seconds = used.get(b0_value, 0.0)
        span = (b1_value - b0_value).total_seconds()
        share = seconds / (span * outlet_count) if outlet_count and span else 0.0
        out.append(
            {
                "bucket": utc_to_local(b0_value, zone).isoformat(sep=" "),
                "outlet_hours": round(seconds / 3600, 3),
                "occupancy": round(min(1.0, share), 4),
                "outlets": outlet_count,
            }
        )
    return out


def _occupied_by_sql(
    viewer: Viewer, node: Node, buckets: list[tuple[dt.datetime, dt.datetime]], now: dt.datetime
) -> dict[dt.datetime, float]:
    """{bucket start: outlet-seconds in use}: the overlap of every session with every
    bucket summed in SQL (the buckets join as a VALUES list)."""
    d = Dialect(database_proxy.obj)
    # lb: how far back a session overlapping the bucket may have started (index range)
    values = ValuesList([(b0, b1, b0 - LONGEST_SESSION) for b0, b1 in buckets]).cte(
        "bk", columns=("b0", "b1", "lb")
    )
    b0 = d.timestamp(values.c.b0)
    b1 = d.timestamp(values.c.b1)
    lb = d.timestamp(values.c.lb)
    session_end = fn.COALESCE(S.end_time, d.timestamp(peewee.Value(now)))
    overlap = d.seconds_between(d.greatest(S.start_time, b0), d.least(session_end, b1))
    query = (
        S.select(values.c.b0, fn.SUM(overlap))
        .join(
            values,
            JOIN.INNER,
            on=((S.start_time >= lb) & (S.start_time < b1) & (session_end > b0)),
        )
        .where(session_scope(viewer, node), COUNTED)
        .group_by(values.c.b0)
        .with_cte(values)
    )
    return {_as_datetime(b): float(sec or 0) for b, sec in query.tuples()}


def _as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def data_span(viewer: Viewer, node: Node = SYSTEM) -> tuple[dt.datetime | None, dt.datetime | None]:
    """First and last session start in scope (the timeline's full extent)."""
    row = (
        S.select(fn.MIN(S.start_time), fn.MAX(S.start_time))
        .where(session_scope(viewer, node), COUNTED)
        .tuples()
    )
    first, last = next(iter(row))
    return (
        _as_datetime(first) if first is not None else None,
        _as_datetime(last) if last is not None else None,
    )
