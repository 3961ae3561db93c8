"""Dashboard panel data (SPEC §3): today vs the same day last week, occupancy per site."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import Case, fn

from db.schema.models import ChargingSession, Outlet, Site, Station, utcnow
from db.system.timezones import local_to_utc, utc_to_local
from db.topology.scope import COUNTED, SYSTEM, Node, Viewer, session_scope, station_scope

__all__ = ["occupancy_per_site", "today_vs_last_week"]

S = ChargingSession

#: A session "running" for longer than this is a lost StopTransaction, not an occupied outlet.
STALE_RUNNING = dt.timedelta(days=2)


def _totals(
    viewer: Viewer, node: Node, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> dict[str, Any]:
    # energy up to ``now`` for running sessions (live), stored energy for finished ones
    energy = Case(
        None,
        [(S.end_time.is_null(), fn.COALESCE(S.meter_last, S.meter_start) - S.meter_start)],
        S.energy_wh,
    )
    n, wh = (
        S.select(fn.COUNT(S.id), fn.SUM(energy))
        .where(session_scope(viewer, node), COUNTED, S.start_time >= start, S.start_time < end)
        .tuples()
        .get()
    )
    return {"sessions": int(n or 0), "energy_kwh": round(int(wh or 0) / 1000, 3)}


def today_vs_last_week(
    viewer: Viewer,
    node: Node = SYSTEM,
    *,
    now: dt.datetime | None = None,
    zone: str | None = None,
) -> dict[str, Any]:
    """Sessions and energy started today so far, and on the same weekday a week ago up to
    the same time of day (a fair comparison), plus that whole day. "Today" and "the same
    time" are the wall clock of ``zone`` (None: UTC): a day can have 23 or 25 hours."""
    now = now or utcnow()
    local_now = utc_to_local(now, zone)
    local_midnight = dt.datetime.combine(local_now.date(), dt.time())
    week = dt.timedelta(days=7)

    def utc(local: dt.datetime) -> dt.datetime:
        return local_to_utc(local, zone)

    midnight = utc(local_midnight)
    today = _totals(viewer, node, midnight, now, now)
    same_time = _totals(viewer, node, utc(local_midnight - week), utc(local_now - week), now)
    whole_day = _totals(
        viewer,
        node,
        utc(local_midnight - week),
        utc(local_midnight - week + dt.timedelta(days=1)),
        now,
    )

    def change(a: float, b: float) -> float | None:
        return None if not b else round(100.0 * (a - b) / b, 1)

    return {
        "date": local_now.date().isoformat(),
        "last_week_date": (local_now - week).date().isoformat(),
        "today": today,
        "last_week_same_time": same_time,
        "last_week_whole_day": whole_day,
        "sessions_change_pct": change(today["sessions"], same_time["sessions"]),
        "energy_change_pct": change(today["energy_kwh"], same_time["energy_kwh"]),
    }


def occupancy_per_site(
    viewer: Viewer, node: Node = SYSTEM, *, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per visible site: outlets, outlets charging now (a running session), share in use."""
    now = now or utcnow()
    outlets = dict(
        Outlet.select(Station.site, fn.COUNT(Outlet.id))
        .join(Station)
        .where(station_scope(viewer, node), Station.site.is_null(False))
        .group_by(Station.site)
        .tuples()
    )
    busy = dict(
        S.select(S.site, fn.COUNT(fn.DISTINCT(S.outlet)))
        .where(
            session_scope(viewer, node),
            S.end_time.is_null(),
            S.start_time >= now - STALE_RUNNING,
            S.site.is_null(False),
        )
        .group_by(S.site)
        .tuples()
    )
    names = dict(Site.select(Site.id, Site.name).where(Site.id.in_(list(outlets) or [0])).tuples())
    rows = []
    for site_id, total in outlets.items():
        in_use = min(int(busy.get(site_id, 0)), int(total))
        rows.append(
            {
                "site_id": site_id,
                "site": names.get(site_id, ""),
                "outlets": int(total),
                "charging": in_use,
                "share": round(in_use / total, 4) if total else 0.0,
            }
        )
    rows.sort(key=lambda r: (-r["share"], r["site"]))
    return rows
